"""The course site: every lesson executed top to bottom and rendered as a static page.

``make site`` (``bncourse site``) runs each notebook of ``lessons/`` in a fresh kernel, as
a learner who has not solved anything yet would see it: exercises unsolved, every check
"not attempted", every figure and every explorer's static picture drawn, quizzes shown with
their answers hidden. It writes ``site/index.html`` (the course map) and one page per
lesson, linked to each other through the navigation cells ``bncourse build`` adds. Figures
get alt text: their titles, then the first sentence of the text cell before them.

The build fails, naming the notebook and cell, when a cell raises, a claim does not hold,
or a check shows anything but "not attempted": the site shows only what a learner sees.
The pages are nbconvert's lab template with a small template of ours
(``site_template/``); mathematics is typeset by MathJax when the page is online.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bncourse.claims import RESULT_MIMETYPE

__all__ = ["SitePage", "build_site", "prepare", "alt_text", "main"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TEMPLATE = Path(__file__).with_name("site_template")
_STEM = re.compile(r"^\d\d_[a-z0-9_]+$")


@dataclass
class SitePage:
    """One rendered page, and what the build found wrong on the way."""

    notebook: Path
    page: Path
    images: int = 0
    problems: list[str] = field(default_factory=list)


_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "eta": "η", "lambda": "λ", "mu": "μ", "sigma": "σ", "theta": "θ", "nabla": "∇",
    "cdot": "·", "times": "×", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "sqrt": "√", "sum": "Σ", "to": "→", "rightarrow": "→", "pm": "±", "ell": "ℓ",
    "left": "", "right": "", "|": "‖",
}  # fmt: skip


def _plain_math(formula: str) -> str:
    """Inline LaTeX as plain text a screen reader can say: ``\\hat x`` → ``x̂``,
    ``\\sigma^2`` → ``σ^2``; unknown commands keep their name."""
    text = re.sub(r"\\hat\s*\{?([A-Za-z])\}?", "\\1\u0302", formula)
    text = re.sub(r"\\(?:mathrm|text|mathbf|operatorname)\s*\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+|\|)", lambda m: _GREEK.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\\[,;:! ]", " ", text)
    return text.replace("{", "").replace("}", "")


def _first_sentence(markdown: str) -> str:
    # Formulas are said in plain symbols, so no sentence has holes where they were.
    text = re.sub(r"\$\$[^$]*\$\$", "", markdown)  # display math is not part of a sentence
    text = re.sub(r"\$([^$]*)\$", lambda m: _plain_math(m.group(1)), text)
    text = re.sub(r"[#*`_>]|\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split())
    match = re.search(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text)[:300]


def alt_text(titles: str, context: str) -> str:
    """A figure's alt text: its titles, then the sentence that says what it shows."""
    parts = [part.strip().rstrip(".") for part in (titles, context) if part and part.strip()]
    if not parts:
        return "A figure of this lesson."
    # a title that ends in "?" or "!" keeps its own mark; the others end with a full stop
    return " ".join(part if part[-1] in "?!" else part + "." for part in parts)


def prepare(notebook: Any) -> tuple[int, list[str]]:
    """Make an executed notebook static, in place: widget views give way to their static
    pictures and HTML, every image gets alt text, and links point at the site's pages.

    Returns the number of images and the problems found (errors, broken claims, checks
    that are not "not attempted").
    """
    images = 0
    problems: list[str] = []
    context = ""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"\]\(([\w.-]+)\.ipynb\)", r"](\1.html)", cell.source)
            sections = re.split(r"^#+ .*$", cell.source, flags=re.MULTILINE)
            text = next((part.strip() for part in reversed(sections) if part.strip()), "")
            if text:  # the text nearest the figure: after the cell's last heading
                context = _first_sentence(text)
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            data = output.get("data")
            if not isinstance(data, dict):
                continue
            payload = data.get(RESULT_MIMETYPE)
            if isinstance(payload, dict):
                if payload.get("kind") == "claim" and payload.get("status") != "holds":
                    problems.append(f"cell {index}: claim did not hold: {payload.get('name')}")
                if payload.get("kind") == "check" and payload.get("status") != "not-attempted":
                    problems.append(
                        f"cell {index}: check {payload.get('name')} is {payload.get('status')}"
                    )
                if payload.get("kind") == "quiz" and payload.get("status") != "unanswered":
                    problems.append(f"cell {index}: the quiz shows answers ({payload['status']})")
            explorer_title = ""
            if WIDGET_VIEW in data and ("image/png" in data or "text/html" in data):
                del data[WIDGET_VIEW]
                plain = data.get("text/plain", "")
                plain = "".join(plain) if isinstance(plain, list) else str(plain)
                explorer_title = plain.split(" (interactive in JupyterLab", 1)[0].strip()
            if isinstance(data.get("text/html"), str):
                data["text/html"] = re.sub(
                    r'href="([\w.-]+)\.ipynb"', r'href="\1.html"', data["text/html"]
                )
            if "image/png" in data:
                images += 1
                metadata = output.setdefault("metadata", {})
                image = metadata.get("image/png")
                titles = image.get("alt", "") if isinstance(image, dict) else ""
                titles = titles or (f"Explorer: {explorer_title}" if explorer_title else "")
                metadata["image/png"] = {
                    **(image if isinstance(image, dict) else {}),
                    "alt": alt_text(titles, context),
                }
    return images, problems


def _execute(path: Path, timeout: int) -> Any:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def _exporter() -> Any:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE.name, extra_template_basedirs=[str(TEMPLATE.parent)]
    )
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def build_site(
    lessons: Path | str = "lessons",
    out: Path | str = "site",
    *,
    timeout: int = 600,
    only: list[str] | None = None,
) -> list[SitePage]:
    """Execute and render every lesson notebook into ``out``; the course map is index.html."""
    lessons, out = Path(lessons), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["BNCOURSE_STRICT_CLAIMS"] = "0"  # a broken claim is reported, not raised
    exporter = _exporter()
    pages = []
    for path in sorted(lessons.glob("*.ipynb")):
        if not _STEM.match(path.stem) or (only and not any(path.stem.startswith(o) for o in only)):
            continue
        notebook = _execute(path, timeout)
        images, problems = prepare(notebook)
        body, _ = exporter.from_notebook_node(
            copy.deepcopy(notebook), resources={"metadata": {"name": _page_title(notebook)}}
        )
        page = out / ("index.html" if path.stem.startswith("00") else f"{path.stem}.html")
        page.write_text(body, encoding="utf-8")
        pages.append(SitePage(path, page, images, problems))
    return pages


def _page_title(notebook: Any) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "bncourse"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bncourse site", description="Build the course site from the lessons."
    )
    parser.add_argument("--lessons", type=Path, default=Path("lessons"))
    parser.add_argument("--out", type=Path, default=Path("site"))
    parser.add_argument("only", nargs="*", help="only these lessons (name prefixes)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    pages = build_site(args.lessons, args.out, only=args.only or None)
    failed = 0
    for page in pages:
        status = "ok" if not page.problems else "PROBLEMS"
        print(f"{page.page}: {page.images} figure(s), {status}")
        for problem in page.problems:
            print(f"  {problem}")
        failed += bool(page.problems)
    return 1 if failed else 0
