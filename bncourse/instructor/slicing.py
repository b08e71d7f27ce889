"""Which cells of a submitted notebook grading needs to run.

Grading needs the exercise functions and the quiz answers, and whatever they refer to
(imports, helper functions, constants). Starting from those names, we keep every cell that
binds a needed name and add the global names that cell uses, until nothing changes. The
rest (plots, widgets, experiments) never runs, so grading a lesson takes seconds.
"""

from __future__ import annotations

import builtins
import symtable
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CellNames", "analyse", "needed_cells"]

_BUILTINS = set(dir(builtins))


@dataclass(frozen=True)
class CellNames:
    binds: frozenset[str]
    uses: frozenset[str]


def _uses_in(table: symtable.SymbolTable, top: bool) -> set[str]:
    used = set()
    for symbol in table.get_symbols():
        if not symbol.is_referenced():
            continue
        if top or symbol.is_global() or symbol.is_free():
            used.add(symbol.get_name())
    for child in table.get_children():
        used |= {name for name in _uses_in(child, top=False)}
    return used


def analyse(source: str) -> CellNames | None:
    """The global names a cell binds and uses; None when it does not parse."""
    try:
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return None
    binds = {
        symbol.get_name()
        for symbol in table.get_symbols()
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()
    }
    uses = _uses_in(table, top=True) - _BUILTINS
    return CellNames(frozenset(binds), frozenset(uses))


def needed_cells(sources: list[str], wanted: Iterable[str]) -> list[int]:
    """Indices (in order) of the cells needed to define ``wanted`` names."""
    names = [analyse(source) for source in sources]
    needed = set(wanted)
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for index, cell in enumerate(names):
            if index in chosen or cell is None or not (cell.binds & needed):
                continue
            chosen.add(index)
            new = cell.uses - needed
            if new:
                needed |= new
            changed = True
    return sorted(chosen)
