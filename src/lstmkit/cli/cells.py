"""``lstmkit cells``: the cell family, from the one table in ``lstmkit.specs``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from lstmkit.specs import CELLS


def cells() -> None:
    """List the recurrent cell kinds, their gates and extra parameters."""
    table = Table(title="lstmkit cell kinds")
    for column in ("kind", "cell", "gates (order)", "cell state", "extra parameters"):
        table.add_column(column)
    for spec in CELLS.values():
        extras = ", ".join(f"{e.name}_l{{k}}" for e in spec.extra_params) or "-"
        table.add_row(spec.name, spec.title, ", ".join(spec.gates), "yes" if spec.has_cell_state else "no", extras)
    Console().print(table)
