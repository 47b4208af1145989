"""Train/validation/test splits: stratified by label, or chronological (the future never trains the past)."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import DataError, ParameterError


def _check_fraction(test_size: float) -> None:
    if isinstance(test_size, bool) or not isinstance(test_size, int | float) or not 0 < test_size < 1:
        raise ParameterError(f"expected test_size in (0, 1), got {test_size!r}")


def stratified_split(labels, test_size: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each class split in the same proportion; a DataError when a class is too small.

    Every class needs at least two cases (one on each side), and the test part at least one case per class.
    """
    from sklearn.model_selection import train_test_split

    _check_fraction(test_size)
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise DataError(f"the labels have only one class ({classes[0].item()!r}); expected at least two")
    small = classes[counts < 2]
    if len(small):
        raise DataError(
            f"class {small[0].item()!r} has {counts[counts < 2][0]} case; a stratified split needs at least 2 per class"
        )
    n_test = int(np.ceil(test_size * len(labels)))
    if n_test < len(classes) or len(labels) - n_test < len(classes):
        raise DataError(
            f"{len(labels)} cases with test_size {test_size} give {n_test} test cases for {len(classes)} classes; "
            "expected at least one case of each class on each side"
        )
    index = np.arange(len(labels))
    train, test = train_test_split(index, test_size=n_test, stratify=labels, random_state=seed)
    return np.sort(train), np.sort(test)


def chronological_split(n: int, test_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): the first part trains, the last ``test_size`` share (at least one) tests."""
    _check_fraction(test_size)
    n_test = max(1, int(round(test_size * n)))
    if n - n_test < 1:
        raise DataError(f"{n} cases cannot be split with test_size {test_size}: expected at least one on each side")
    return np.arange(n - n_test), np.arange(n - n_test, n)
