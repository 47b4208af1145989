"""Where the tests find the real corpora: ``../shared/data`` beside the repository (never needed at run time)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared(*parts: str) -> Path:
    """A path under ../shared/data; the test fails (not skips) when the corpora are absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the real corpora from ../shared/data")
    return path
