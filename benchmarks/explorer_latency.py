"""Redraw latency of every explorer, as a learner sees it in JupyterLab (a table, not a test).

For each lesson with explorers: open a copy in JupyterLab in Chromium (1280x800, file
browser open), Run All, then for each explorer move its first slider with the mouse (or pick
another option of its first menu) several times, and time from the mouse release to the new
picture in the page. Prints the median and the slowest per explorer. Goal: <= 300 ms on 2
cores.

    python benchmarks/explorer_latency.py               # every lesson
    python benchmarks/explorer_latency.py 03 05 --moves 7
    python benchmarks/explorer_latency.py 02 --screenshots test-artifacts/explorers
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser_support import (  # noqa: E402 - the tests' JupyterLab harness
    copy_lessons,
    lab_server,
    open_browser,
    open_notebook,
    run_all,
)

_NEW_PICTURE = (
    "([cell, old]) => { const img = cell.querySelector('.widget-output img');"
    "  return img && img.getAttribute('src') !== old; }"
)


def _explorer_cells(page) -> list[int]:
    return page.evaluate(
        """() => window.jupyterapp.shell.currentWidget.content.widgets
             .map((c, i) => [c, i])
             .filter(([c]) => c.model.type === 'code'
                             && /_explorer\\(/.test(c.model.sharedModel.getSource())
                             && !/def \\w+_explorer/.test(c.model.sharedModel.getSource()))
             .map(([c, i]) => i)"""
    )


def _time_moves(page, index: int, moves: int) -> tuple[str, list[float]]:
    # Bring the cell into view through JupyterLab itself and tag its node: with windowed
    # notebooks the n-th cell in the page is not always the n-th cell of the notebook.
    page.evaluate(
        """async (index) => {
             const notebook = window.jupyterapp.shell.currentWidget.content;
             document.querySelectorAll('[data-bench-cell]')
               .forEach((n) => n.removeAttribute('data-bench-cell'));
             notebook.activeCellIndex = index;
             await notebook.scrollToItem(index, 'start');
             notebook.widgets[index].node.setAttribute('data-bench-cell', '1');
           }""",
        index,
    )
    page.wait_for_timeout(500)
    explorer = page.locator("[data-bench-cell]")
    explorer.scroll_into_view_if_needed()
    title = explorer.locator(".widget-html b").first.inner_text(timeout=10_000)
    times = []
    handle = explorer.locator(".noUi-handle").first
    dropdown = explorer.locator("select").first
    for move in range(moves):
        before = explorer.locator(".widget-output img").get_attribute("src")
        if handle.count():
            box = handle.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + (40 if move % 2 == 0 else -40), y, steps=4)
            start = time.perf_counter()
            page.mouse.up()
        else:
            options = dropdown.locator("option")
            start = time.perf_counter()
            dropdown.select_option(index=(move + 1) % max(options.count(), 2))
        try:
            page.wait_for_function(
                _NEW_PICTURE, arg=[explorer.element_handle(), before], timeout=30_000
            )
        except Exception:  # no new picture within 30 s: report it, go on with the others
            page.screenshot(path=str(ROOT / "test-artifacts" / f"latency-timeout-{index}.png"))
            times.append(float("inf"))
            continue
        times.append((time.perf_counter() - start) * 1000)
    return title, times


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers, e.g. 03 05 (default: all)")
    parser.add_argument("--moves", type=int, default=5)
    parser.add_argument(
        "--screenshots", type=Path, default=None, help="folder for one screenshot per explorer"
    )
    args = parser.parse_args(argv)
    names = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    names = [n for n in names if not n.startswith("00")]
    if args.lessons:
        names = [n for n in names if n[:2] in args.lessons]
    print("| lesson | explorer | median (ms) | slowest (ms) |")
    print("|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        root = copy_lessons(ROOT / "lessons", Path(folder) / "lessons", names)
        with lab_server(root, Path(folder) / "lab.log") as base, open_browser() as page:
            for name in names:
                open_notebook(page, base, name)
                run_all(page, timeout_ms=600_000)
                for index in _explorer_cells(page):
                    title, times = _time_moves(page, index, args.moves)
                    if args.screenshots:
                        args.screenshots.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(args.screenshots / f"{name[:2]}-{index}.png"))
                    print(
                        f"| {name[:2]} | {title} | {statistics.median(times):.0f} | "
                        f"{max(times):.0f} |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
