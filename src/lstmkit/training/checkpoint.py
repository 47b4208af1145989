"""Checkpoints that survive crashes: safetensors for tensors, JSON for everything else, no pickle.

A checkpoint is a folder with two files, ``tensors.safetensors`` and ``state.json``. The JSON records
the SHA-256 of the tensor file, so a truncated or tampered file is caught on load. Writing is atomic:
both files go to a temporary folder beside the target (fsynced), which then replaces the target by
rename; a crash at any point leaves the previous checkpoint as it was. Loading never executes code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from lstmkit.errors import CheckpointError

FORMAT = "lstmkit-checkpoint"
VERSION = 1
TENSORS, STATE = "tensors.safetensors", "state.json"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> Path:
    """Write ``tensors`` (name -> tensor) and ``state`` (JSON-serializable) as the checkpoint ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a process killed while writing
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    blob = save_tensors({name: t.detach().cpu().contiguous() for name, t in tensors.items()})
    header = {"format": FORMAT, "version": VERSION, "tensors_sha256": hashlib.sha256(blob).hexdigest(), "state": state}
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        _write(tmp / TENSORS, blob)
        _write(tmp / STATE, json.dumps(header, indent=1, allow_nan=False).encode())
        _fsync_dir(tmp)
        os.chmod(tmp, 0o755)  # mkdtemp creates 0700
        old = None
        if path.exists():  # move the previous checkpoint aside only once the new one is complete
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def recover(path: str | Path) -> None:
    """If a crash came between moving the previous checkpoint aside and renaming the new one in, put the
    previous one back."""
    path = Path(path)
    old = path.with_name(f".{path.name}.old")
    if not path.exists() and old.exists():
        os.replace(old, path)


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a folder lstmkit wrote as a checkpoint: exactly its two files, the JSON in its format."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink() or {p.name for p in path.iterdir()} != {STATE, TENSORS}:
        return False
    try:
        header = json.loads((path / STATE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT


def last_checkpoint(checkpoint_dir: str | Path) -> Path:
    """The folder in ``checkpoint_dir`` that holds a run's latest checkpoint."""
    return Path(checkpoint_dir) / "last"


def resume_point(checkpoint_dir: str | Path | None) -> Path | None:
    """The checkpoint a run writing to ``checkpoint_dir`` resumes from, or None to start afresh."""
    if checkpoint_dir is None:
        return None
    last = last_checkpoint(checkpoint_dir)
    recover(last)
    return last if (last / STATE).exists() else None


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint folder back: (tensors, state). A ``CheckpointError`` naming the file and what is wrong
    for anything that is not an intact lstmkit checkpoint."""
    path = Path(path)
    recover(path)
    state_file, tensor_file = path / STATE, path / TENSORS
    for file in (state_file, tensor_file):
        if not file.is_file():
            raise CheckpointError(f"{file}: missing; expected an lstmkit checkpoint folder with {STATE} and {TENSORS}")
    try:
        header = json.loads(state_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{state_file}: not valid JSON ({error})") from None
    found = header.get("format") if isinstance(header, dict) else type(header).__name__
    if found != FORMAT:
        raise CheckpointError(f"{state_file}: not an lstmkit checkpoint (format {found!r}, expected {FORMAT!r})")
    if header.get("version") != VERSION:
        raise CheckpointError(
            f"{state_file}: checkpoint version {header.get('version')!r}, this lstmkit reads {VERSION}"
        )
    blob = tensor_file.read_bytes()
    if hashlib.sha256(blob).hexdigest() != header.get("tensors_sha256"):
        raise CheckpointError(f"{tensor_file}: contents do not match the checksum in {STATE} (truncated or modified)")
    try:
        tensors = load_tensors(blob)
    except (SafetensorError, ValueError) as error:
        raise CheckpointError(f"{tensor_file}: not a readable safetensors file ({error})") from None
    return tensors, header["state"]
