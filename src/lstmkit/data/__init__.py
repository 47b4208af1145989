"""Data for lstmkit: NumPy and pandas only, never torch."""

from lstmkit.data.datasets import DATASETS, load_dataset
from lstmkit.data.synthetic import adding_problem, first_symbol

__all__ = ["DATASETS", "adding_problem", "first_symbol", "load_dataset"]
