"""Authors' tools for the quiz banks: the ``bncourse quiz`` command.

``bncourse quiz hash STEM QUESTION-ID ANSWER``
    prints the ``answer = "sha256:..."`` line for a question's correct answer. ANSWER is
    written as in ``quiz_answers``: ``b``, ``"['a', 'c']"`` (or ``a,c``), ``True``, ``0.25``.
``bncourse quiz validate [--key KEY.json] [--solutions DIR]``
    checks every bank (schema, unique ids, kinds, choices, tolerances, hash format, at
    least six questions) and, given the answer key, that every stored hash matches it.
``bncourse quiz key [--solutions DIR]``
    prints, as JSON, the answer key read from the solution notebooks' quiz cells.
``bncourse quiz cell STEM --key KEY.json``
    prints the quiz cell for a solution notebook, answer key between the solution markers.

The answer key lives in the solution notebooks: their quiz cell assigns the full answer
dict between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. ``read_quiz_answers`` reads
such a cell with ``ast.literal_eval``; nothing in a notebook is ever executed here.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bncourse.quiz.bank import (
    AnswerFormError,
    Bank,
    BankError,
    answer_hash,
    answers_literal,
    bank_path,
    canonical_answer,
    is_correct,
    is_unanswered,
    load_bank,
    question_from_table,
    question_problems,
    quiz_dir,
    stems,
)

__all__ = [
    "MIN_QUESTIONS",
    "QuizCell",
    "QuizKeyError",
    "hash_for",
    "key_problems",
    "keys_from_solutions",
    "main",
    "parse_answer",
    "quiz_cell",
    "quiz_cell_source",
    "read_quiz_answers",
    "validate",
]

MIN_QUESTIONS = 6
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
VARIABLE = "quiz_answers"


class QuizKeyError(ValueError):
    """A notebook whose quiz cell or answer key cannot be read (names file and cell)."""


# ---------------------------------------------------------------------------
# Hashing a new answer
# ---------------------------------------------------------------------------


def hash_for(stem_or_path: str | Path, question_id: str, value: Any) -> str:
    """The ``sha256:...`` hash of ``value`` as the correct answer to ``question_id``.

    Only the bank's salt and that question's own fields need to be valid, so this works
    while the question's ``answer`` is still a placeholder.
    """
    path = Path(stem_or_path) if str(stem_or_path).endswith(".toml") else bank_path(stem_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise BankError(f"{path}: not a readable TOML file: {error}") from error
    tables = [q for q in data.get("questions", []) if isinstance(q, Mapping)]
    matches = [q for q in tables if q.get("id") == question_id]
    if len(matches) != 1:
        known = ", ".join(str(q.get("id")) for q in tables)
        raise BankError(f"{path}: no single question {question_id!r}; the questions: {known}")
    problems = question_problems(matches[0], require_answer=False)
    salt = data.get("salt")
    if not isinstance(salt, str) or not salt:
        problems.append("the bank has no 'salt'")
    if problems:
        raise BankError(f"{path}: question {question_id!r}: " + "; ".join(problems))
    question = question_from_table({**matches[0], "answer": ""})
    if is_unanswered(value):
        raise AnswerFormError(f"{path}: question {question_id!r}: the answer is empty")
    try:
        canonical = canonical_answer(question, value)
    except AnswerFormError as error:
        raise AnswerFormError(f"{path}: question {question_id!r}: {error}") from error
    return answer_hash(salt, question_id, canonical)


def parse_answer(text: str, kind: str) -> Any:
    """An answer typed on the command line, in the form ``quiz_answers`` uses."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text.strip()
    if kind == "multiple" and isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if kind == "truefalse" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "single" and not isinstance(value, str):
        return text.strip()
    return value


# ---------------------------------------------------------------------------
# Checking banks against an answer key
# ---------------------------------------------------------------------------


def key_problems(bank: Bank, key: Any) -> list[str]:
    """Every way the answer ``key`` (question id -> answer) disagrees with ``bank``."""
    where = bank.path or bank.stem
    if not isinstance(key, Mapping):
        return [f"{where}: the answer key must be a dict; got {type(key).__name__}"]
    problems = []
    for question in bank.questions:
        label = f"{where}: question {question.id!r}"
        if question.id not in key or is_unanswered(key[question.id]):
            problems.append(f"{label}: the answer key has no answer for it")
            continue
        try:
            if not is_correct(bank, question, key[question.id]):
                problems.append(
                    f"{label}: the stored hash does not match the key's answer {key[question.id]!r}"
                )
        except AnswerFormError as error:
            problems.append(f"{label}: the key's answer is malformed: {error}")
    known = {question.id for question in bank.questions}
    problems += [
        f"{where}: the answer key has {extra!r}, which is not a question of this bank"
        for extra in key
        if extra not in known
    ]
    return problems


LONGEST_RATIO = 1.3
"""A correct single-choice option longer than this times the longest distractor gives itself
away."""
LONGEST_SHARE = 0.4
"""A bank whose correct single-choice option is the longest in more than this share of its
single-choice questions teaches learners to pick the longest option."""


def giveaway_problems(bank: Bank, key: Mapping[str, Any]) -> list[str]:
    """Single-choice questions whose correct option stands out by its length alone.

    Fails a question whose correct option is more than ``LONGEST_RATIO`` times as long as
    its longest distractor, and a bank whose correct option is longer than every distractor
    in more than ``LONGEST_SHARE`` of its single-choice questions.
    """
    where = bank.path or bank.stem
    problems: list[str] = []
    longest = 0
    singles = 0
    for question in bank.questions:
        answer = key.get(question.id) if isinstance(key, Mapping) else None
        if question.kind != "single" or not isinstance(answer, str):
            continue
        lengths = {choice.id: len(" ".join(choice.text.split())) for choice in question.choices}
        if answer not in lengths or len(lengths) < 2:
            continue
        singles += 1
        correct = lengths[answer]
        distractor = max(length for cid, length in lengths.items() if cid != answer)
        longest += correct > distractor
        if correct > LONGEST_RATIO * distractor:
            problems.append(
                f"{where}: question {question.id!r}: the correct option ({correct} characters) "
                f"is more than {LONGEST_RATIO:g} times the longest distractor ({distractor}); "
                "shorten it or lengthen a distractor"
            )
    if singles and longest / singles > LONGEST_SHARE:
        problems.append(
            f"{where}: the correct option is the longest in {longest} of {singles} "
            f"single-choice questions (more than {LONGEST_SHARE:.0%}); learners can pick the "
            "longest option without reading"
        )
    return problems


def validate(
    directory: Path | None = None,
    key: Mapping[str, Any] | None = None,
    *,
    min_questions: int = MIN_QUESTIONS,
    check_lengths: bool = True,
) -> list[str]:
    """Problems with every bank in ``directory`` (and with ``key``, if given); [] if none.

    ``key`` maps each stem to its answer dict, as in ``quiz_keys.json``. With a key, single
    choice questions whose correct option gives itself away by its length fail too
    (``giveaway_problems``).
    """
    folder = directory or quiz_dir()
    names = stems(folder)
    if not names:
        return [f"{folder}: no quiz banks (*.toml)"]
    problems: list[str] = []
    for stem in names:
        path = folder / f"{stem}.toml"
        try:
            bank = load_bank(path)
        except BankError as error:
            problems += str(error).splitlines()
            continue
        if len(bank.questions) < min_questions:
            problems.append(
                f"{path}: {len(bank.questions)} questions; a lesson's bank needs at least "
                f"{min_questions}"
            )
        if key is not None:
            if stem in key:
                problems += key_problems(bank, key[stem])
                if check_lengths:
                    problems += giveaway_problems(bank, key[stem])
            else:
                problems.append(f"{path}: the answer key has no entry {stem!r}")
    if key is not None:
        problems += [
            f"the answer key has {stem!r}, for which there is no bank in {folder}"
            for stem in key
            if stem not in names
        ]
    return problems


# ---------------------------------------------------------------------------
# Quiz cells in notebooks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizCell:
    index: int  # 0-based position among all cells
    stem: str
    source: str


def _load_notebook(notebook: Path | str | Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    if isinstance(notebook, Mapping):
        return notebook, "notebook"
    path = Path(notebook)
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError as error:
        raise QuizKeyError(f"{path}: no such notebook") from error
    except (OSError, ValueError) as error:
        raise QuizKeyError(f"{path}: not a readable notebook: {error}") from error


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _shown_stem(tree: ast.AST) -> str | None:
    """The stem of the top-level ``quiz.show("stem", ...)`` call in a cell, if any."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        named_quiz = (isinstance(owner, ast.Name) and owner.id == "quiz") or (
            isinstance(owner, ast.Attribute) and owner.attr == "quiz"
        )
        if node.func.attr == "show" and named_quiz and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    return None


def quiz_cell(notebook: Path | str | Mapping[str, Any], stem: str | None = None) -> QuizCell:
    """The one code cell that shows the quiz (``stem``'s, if given)."""
    data, where = _load_notebook(notebook)
    found = []
    for index, cell in enumerate(data.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        if "quiz.show(" not in source:
            continue
        try:
            shown = _shown_stem(ast.parse(source))
        except SyntaxError as error:
            raise QuizKeyError(f"{where}: cell {index + 1}: does not parse: {error}") from error
        if shown is not None and (stem is None or shown == stem):
            found.append(QuizCell(index, shown, source))
    what = f"quiz.show({stem!r}, ...)" if stem else "quiz.show(...)"
    if not found:
        raise QuizKeyError(f"{where}: no quiz cell (a code cell calling {what})")
    if len(found) > 1:
        cells = ", ".join(str(cell.index + 1) for cell in found)
        raise QuizKeyError(f"{where}: several quiz cells call {what} (cells {cells})")
    return found[0]


def _solution_lines(source: str) -> list[tuple[int, int]]:
    lines = source.splitlines()
    spans, begin = [], None
    for number, line in enumerate(lines, start=1):
        if line.strip() == BEGIN:
            begin = number
        elif line.strip() == END and begin is not None:
            spans.append((begin, number))
            begin = None
    return spans


def read_quiz_answers(
    notebook: Path | str | Mapping[str, Any], stem: str | None = None, *, solution: bool = False
) -> dict[str, Any]:
    """The ``quiz_answers`` dict that a notebook's quiz cell assigns, read without running it.

    The value is the last top-level ``quiz_answers = {...}`` of the cell, parsed with
    ``ast.literal_eval``. With ``solution=True`` (the answer key of a solution notebook)
    that assignment must sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.
    """
    cell = quiz_cell(notebook, stem)
    where = f"{_load_notebook(notebook)[1]}: cell {cell.index + 1} (quiz {cell.stem})"
    tree = ast.parse(cell.source)
    spans = _solution_lines(cell.source)
    assignments = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == VARIABLE for t in node.targets)
    ]
    if solution:
        assignments = [node for node in assignments if any(b < node.lineno < e for b, e in spans)]
    if not assignments:
        place = " between the solution markers" if solution else ""
        raise QuizKeyError(f"{where}: no `{VARIABLE} = {{...}}`{place}")
    node = assignments[-1]
    try:
        value = ast.literal_eval(node.value)
    except (ValueError, SyntaxError, TypeError) as error:
        raise QuizKeyError(
            f"{where}: line {node.lineno}: `{VARIABLE}` must be a literal dict "
            f"(strings, numbers, True/False, lists): {error}"
        ) from error
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise QuizKeyError(f"{where}: line {node.lineno}: `{VARIABLE}` must be a dict of str keys")
    return value


def keys_from_solutions(solutions: Path, names: list[str] | None = None) -> dict[str, Any]:
    """``{stem: answer key}`` read from ``solutions/<stem>.ipynb`` for every bank."""
    return {
        stem: read_quiz_answers(solutions / f"{stem}.ipynb", stem, solution=True)
        for stem in (names if names is not None else stems())
    }


def quiz_cell_source(stem: str, answers: Mapping[str, Any]) -> str:
    """The quiz cell of a solution notebook, with ``answers`` as the key (docs/AUTHORING.md)."""
    order = [question.id for question in load_bank(stem).questions]
    literal = answers_literal(answers, order)
    return (
        "from bncourse import quiz\n\n"
        f"{VARIABLE} = {{}}\n{BEGIN}\n{literal}\n{END}\n"
        f"quiz.show({json.dumps(stem)}, {VARIABLE})"
    )


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def _read_key_file(path: Path) -> dict[str, Any]:
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise QuizKeyError(f"{path}: not a readable JSON answer key: {error}") from error
    if not isinstance(key, dict):
        raise QuizKeyError(f"{path}: the answer key must be a JSON object {{stem: {{...}}}}")
    return key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bncourse quiz", description="Authors' quiz tools.")
    parser.add_argument("--quizzes", type=Path, default=None, help="folder of the banks")
    commands = parser.add_subparsers(dest="command", required=True)
    hashing = commands.add_parser("hash", help="print the hash line for a correct answer")
    hashing.add_argument("stem")
    hashing.add_argument("question_id")
    hashing.add_argument("answer", help="e.g. b   \"['a', 'c']\"   a,c   True   0.25")
    check = commands.add_parser("validate", help="check every bank (and the answer key)")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--key", type=Path, help="JSON answer key {stem: {id: answer}}")
    source.add_argument("--solutions", type=Path, help="read the key from solution notebooks")
    key = commands.add_parser("key", help="print the answer key read from solution notebooks")
    key.add_argument("--solutions", type=Path, default=Path("solutions"))
    cell = commands.add_parser("cell", help="print a solution notebook's quiz cell")
    cell.add_argument("stem")
    cell.add_argument("--key", type=Path, required=True, help="JSON answer key")
    return parser


def _run(args: argparse.Namespace) -> int:
    folder = args.quizzes or quiz_dir()
    if args.command == "hash":
        path = bank_path(args.stem, folder)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        kinds = {q.get("id"): q.get("kind") for q in data.get("questions", [])}
        value = parse_answer(args.answer, str(kinds.get(args.question_id)))
        print(f'answer = "{hash_for(path, args.question_id, value)}"')
        return 0
    if args.command == "key":
        names = stems(folder)
        print(json.dumps(keys_from_solutions(args.solutions, names), indent=2))
        return 0
    if args.command == "cell":
        key = _read_key_file(args.key)
        if args.stem not in key:
            raise QuizKeyError(f"{args.key}: no answers for {args.stem!r}")
        bank_path(args.stem, folder)
        print(quiz_cell_source(args.stem, key[args.stem]))
        return 0
    key = None
    if args.key:
        key = _read_key_file(args.key)
    elif args.solutions:
        key = {}
        problems = []
        for stem in stems(folder):
            try:
                key[stem] = read_quiz_answers(args.solutions / f"{stem}.ipynb", stem, solution=True)
            except QuizKeyError as error:
                problems.append(str(error))
        if problems:
            print("\n".join(problems))
            return 1
    problems = validate(folder, key)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    total = sum(len(load_bank(folder / f"{stem}.toml").questions) for stem in stems(folder))
    checked = " and their answer key" if key is not None else ""
    print(f"ok: {len(stems(folder))} banks, {total} questions{checked}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bncourse quiz``; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return _run(args)
    except (BankError, QuizKeyError, AnswerFormError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
