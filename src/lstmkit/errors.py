"""Typed errors of lstmkit.

Every user-facing check raises one of these with a message that says what was expected and
what came, e.g. ``expected x of shape (T, N, 3), got (5, 7)``. All subclass ``LstmkitError``
and the built-in exception a caller would naturally catch (``ValueError`` for bad values), and where
torch.nn raises another type for the same mistake, that type too (``TypeError``, ``RuntimeError``).
"""

from __future__ import annotations


class LstmkitError(Exception):
    """Base class of every error lstmkit raises on purpose."""


class ShapeError(LstmkitError, ValueError, RuntimeError):
    """An array has the wrong rank or size. Also a RuntimeError, the type torch.nn raises for a tensor of the wrong
    shape, so code written against torch.nn catches it unchanged."""


class ParameterError(LstmkitError, ValueError):
    """A parameter dict has missing or unexpected keys, or an option has a bad value."""


class ParameterTypeError(ParameterError, TypeError):
    """An option of the wrong type (``bias=0``, ``input_size=3.0``): also the TypeError torch.nn raises for it."""


class UnknownCellError(ParameterError):
    """A cell kind that lstmkit does not know."""


class DataError(LstmkitError, ValueError):
    """Input values that cannot be used: NaN or inf, lengths out of range, labels out of range."""


class CheckpointError(LstmkitError, ValueError):
    """A checkpoint that cannot be read: missing, truncated, tampered with, or not lstmkit's."""


class TrainingError(LstmkitError, RuntimeError):
    """Training cannot go on, e.g. a NaN or inf loss or gradient (the message names the step and batch)."""


class NotFittedError(LstmkitError, AttributeError):
    """An estimator used before ``fit``."""


class OutputPathError(LstmkitError, OSError):
    """An output path lstmkit will not write: it holds something lstmkit did not write, sits under a file, or
    is in a folder that cannot be written."""
