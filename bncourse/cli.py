"""The ``bncourse`` command: build, quiz, grade, gradescope, lab-settings, progress, site."""

from __future__ import annotations

import importlib
import sys

_COMMANDS = {
    "build": ("bncourse.tooling.build", "generate lessons/ from solutions/"),
    "quiz": ("bncourse.quiz.authoring", "authors' quiz tools: hash an answer, validate the banks"),
    "grade": ("bncourse.instructor", "grade submitted notebooks into a gradebook"),
    "gradescope": ("bncourse.instructor.gradescope", "build a Gradescope autograder for a lesson"),
    "lab-settings": ("bncourse.tooling.labsettings", "turn on JupyterLab's widget-state saving"),
    "progress": ("bncourse.tooling.progress", "your progress per lesson, from saved notebooks"),
    "site": ("bncourse.tooling.site", "build the course site (site/) from the lessons"),
}


def _usage() -> str:
    lines = ["usage: bncourse <command> [options]", "", "commands:"]
    lines += [f"  {name:<12} {help_text}" for name, (_, help_text) in _COMMANDS.items()]
    lines.append("\nRun `bncourse <command> --help` for a command's options.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in _COMMANDS:
        print(f"bncourse: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(_COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
