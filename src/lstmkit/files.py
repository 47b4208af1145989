"""The one place that writes files atomically and checks output paths.

Writing: temporary file beside the target, fsync, rename, so a crash never leaves half of one.
Checking: an output path is refused before any work if it cannot be created.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lstmkit.errors import OutputPathError


def write_atomically(path: str | Path, data: str | bytes) -> Path:
    """Replace ``path`` with ``data`` in one step; readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; these files are for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_path(path: str | Path, what: str = "output") -> Path:
    """Refuse, before any work, an output ``path`` that cannot be created: one under a file, or in a folder
    this process cannot write. Whether something already at ``path`` may be replaced is the caller's rule."""
    path = Path(path)
    if str(path) == "":
        raise OutputPathError(f"expected a {what} path, got an empty one")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"{path}: {parent} is a file, not a folder; choose another {what} path")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputPathError(f"{path}: the folder {parent} cannot be written; choose another {what} path")
            break
    return path
