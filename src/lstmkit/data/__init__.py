"""Data for lstmkit: NumPy and pandas only, never torch."""

from lstmkit.data.synthetic import adding_problem, first_symbol

__all__ = ["adding_problem", "first_symbol"]
