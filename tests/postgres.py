"""A throwaway PostgreSQL server for the tests: a new cluster in a temporary folder, run by the postgres user on
127.0.0.1 and a free port, stopped and deleted afterwards. Fails (never skips) when no server can be started."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL's server is not installed (no /usr/lib/postgresql/*/bin/pg_ctl); .ci/run installs it")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)


@contextmanager
def postgres_server():
    """Yields the SQLAlchemy URL of a fresh, empty database."""
    binaries, port = _binaries(), _free_port()
    folder = Path(tempfile.mkdtemp(prefix="lstmkit-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        for command in (
            [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            [
                str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "start",
                "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            ],
        ):
            result = _as_postgres(*command)
            if result.returncode != 0:
                pytest.fail(f"cannot start a PostgreSQL server: {' '.join(command[:2])}: {result.stderr[-500:]}")
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
