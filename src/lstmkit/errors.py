"""Typed errors of lstmkit.

Every user-facing check raises one of these with a message that says what was expected and
what came, e.g. ``expected x of shape (T, N, 3), got (5, 7)``. All subclass ``LstmkitError``
and the built-in exception a caller would naturally catch (``ValueError`` for bad values).
"""

from __future__ import annotations


class LstmkitError(Exception):
    """Base class of every error lstmkit raises on purpose."""


class ShapeError(LstmkitError, ValueError):
    """An array has the wrong rank or size."""


class ParameterError(LstmkitError, ValueError):
    """A parameter dict has missing or unexpected keys, or an option has a bad value."""


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
