"""Checks of option values, shared by every layer that takes options: a ParameterError that names the option,
says what was expected and what came."""

from __future__ import annotations

import math

from lstmkit.errors import ParameterError, ParameterTypeError


def check_integer(name: str, value, low: int | None = None, high: int | None = None, optional: bool = False) -> None:
    """A ParameterTypeError unless ``value`` is an int, a ParameterError unless it is in [low, high] (None passes
    when ``optional``)."""
    if optional and value is None:
        return
    bounds = f" in [{low}, {'inf' if high is None else high}]" if low is not None else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterTypeError(f"expected {name} to be an integer{bounds}, got {value!r} ({type(value).__name__})")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"expected {name} to be an integer{bounds}, got {value}")


def check_number(name: str, value, low: float, high: float, low_open: bool = False, high_open: bool = False) -> None:
    """A ParameterTypeError unless ``value`` is a real number, a ParameterError unless it is finite and in the
    interval given."""
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterTypeError(
            f"expected {name} to be a number in {interval}, got {value!r} ({type(value).__name__})"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"expected {name} to be a number in {interval}, got {value!r}")
    if value < low or value > high or (low_open and value == low) or (high_open and value == high):
        raise ParameterError(f"expected {name} in {interval}, got {value}")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ParameterError(f"unknown {name} {value!r}; expected one of {', '.join(map(repr, choices))}")
