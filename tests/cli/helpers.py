"""Running the real console entry point in-process: exit code, stdout and stderr."""

from __future__ import annotations

import sys

import pytest

from lstmkit.cli import main


def run_cli(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["lstmkit", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


__all__ = ["pytest", "run_cli"]
