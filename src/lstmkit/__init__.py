"""lstmkit: LSTM networks you can read, train and see inside.

Importing lstmkit is cheap and never imports torch; the submodules load on use:
``lstmkit.reference`` (the NumPy cell family with exact backprop through time).
"""

__version__ = "0.1.0"

from lstmkit.errors import DataError, LstmkitError, ParameterError, ShapeError, UnknownCellError
from lstmkit.specs import CELLS, CellSpec, get_spec

__all__ = [
    "CELLS",
    "CellSpec",
    "DataError",
    "LstmkitError",
    "ParameterError",
    "ShapeError",
    "UnknownCellError",
    "__version__",
    "get_spec",
]
