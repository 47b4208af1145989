"""The classic long-time-lag problems (Hochreiter & Schmidhuber 1997), as batches of NumPy arrays.

Each returns ``x`` (T, N, C) time-first, like every sequence in lstmkit, and the targets.
"""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ParameterError


def _check(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ParameterError(f"expected {name} to be an integer >= {low}, got {value!r}")


def first_symbol(
    n: int, length: int, num_symbols: int = 4, num_distractors: int = 4, rng: np.random.Generator | None = None
):
    """ "Remember the first symbol" (Hochreiter & Schmidhuber 1997, experiment 2a, with random noise).

    Step 0 is a one-hot symbol out of K; every later step is a random distractor, so the label, the
    first symbol, must be kept across ``length - 1`` steps of noise. Chance is 1/K. With M =
    ``num_distractors`` > 0 the distractors come from M symbols of their own; with M = 0 they are drawn
    from the K symbols themselves, so the input gate cannot tell them apart by channel: only by time.

    Returns x (T, N, K + M) float64 one-hot and labels (N,) int64 in [0, K).
    """
    _check("n", n, 1)
    _check("length", length, 1)
    _check("num_symbols", num_symbols, 2)
    _check("num_distractors", num_distractors, 0)
    rng = np.random.default_rng(rng)
    labels = rng.integers(0, num_symbols, size=n)
    if num_distractors:
        symbols = num_symbols + rng.integers(0, num_distractors, size=(length, n))
    else:
        symbols = rng.integers(0, num_symbols, size=(length, n))
    symbols[0] = labels
    return np.eye(num_symbols + num_distractors)[symbols], labels


def adding_problem(n: int, length: int, rng: np.random.Generator | None = None):
    """The adding problem: two channels, values ~ U[0, 1] and a marker with one 1 in each half.

    The target is the sum of the two marked values; always guessing its mean, 1, scores MSE 1/6.

    Returns x (T, N, 2) float64 and targets (N, 1).
    """
    _check("n", n, 1)
    _check("length", length, 2)
    rng = np.random.default_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(length, n))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    marker = np.zeros((length, n))
    columns = np.arange(n)
    marker[first, columns] = 1.0
    marker[second, columns] = 1.0
    target = values[first, columns] + values[second, columns]
    return np.stack([values, marker], axis=-1), target[:, None]


REBER_SYMBOLS = "BTSXPVE"
# Reber's grammar (Reber 1967; Cleeremans, Servan-Schreiber & McClelland 1989): node -> (symbol, next node),
# each of a node's two edges taken with probability 1/2; a string is B, a walk from node 1 to node 6, then E.
REBER_EDGES = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
}


def reber_string(rng: np.random.Generator) -> str:
    """One string of Reber's grammar, e.g. ``BTSSXXTVVE``."""
    node, symbols = 1, ["B"]
    while node != 6:
        symbol, node = REBER_EDGES[node][rng.integers(2)]
        symbols.append(symbol)
    return "".join(symbols) + "E"


def embedded_reber_strings(n: int, rng: np.random.Generator | None = None) -> list[str]:
    """The embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1): B, then T or P, then a Reber
    string, then the same T or P again, then E. Predicting that second-to-last symbol means remembering the
    second one across the whole inner string."""
    _check("n", n, 1)
    rng = np.random.default_rng(rng)
    strings = []
    for _ in range(n):
        branch = "TP"[rng.integers(2)]
        strings.append("B" + branch + reber_string(rng) + branch + "E")
    return strings


def embedded_reber_successors(string: str) -> list[str]:
    """For each position k < len - 1 of an embedded Reber string, the symbols that may follow string[: k + 1]
    (the grammar's targets: a net predicts all of them, not one)."""
    if len(string) < 9 or string[0] != "B" or string[1] not in "TP" or string[-2:] != string[1] + "E":
        raise ParameterError(f"not an embedded Reber string: {string!r}")
    successors = ["TP", "B", "TP"]  # after B, after the branch symbol, after the inner B
    node = 1
    for symbol in string[3:-3]:  # the inner walk, up to its last edge into node 6
        edges = dict(REBER_EDGES[node])
        if symbol not in edges:
            raise ParameterError(f"not an embedded Reber string: {string!r} ({symbol!r} cannot follow here)")
        node = edges[symbol]
        successors.append("E" if node == 6 else "".join(s for s, _ in REBER_EDGES[node]))
    if node != 6:
        raise ParameterError(f"not an embedded Reber string: {string!r} (the inner string does not end)")
    return successors + [string[1], "E"]  # after the inner E: the branch symbol again; after it: E


TEMPORAL_ORDER_SYMBOLS = "abcdXYEB"  # distractors a-d, the relevant X and Y, the start E and the end B
# Where the relevant symbols sit (Hochreiter & Schmidhuber 1997, experiments 6a and 6b): one window per symbol.
TEMPORAL_ORDER_WINDOWS = {2: ((10, 20), (50, 60)), 3: ((10, 20), (33, 43), (66, 76))}


def temporal_order(n: int, relevant: int = 2, rng: np.random.Generator | None = None):
    """The temporal order problem (Hochreiter & Schmidhuber 1997, experiment 6a with ``relevant=2``, 6b with 3).

    A sequence of 100-110 symbols starts with E and ends with B; every other symbol is a distractor drawn from
    a, b, c, d, except ``relevant`` symbols, each X or Y, one in each window of ``TEMPORAL_ORDER_WINDOWS``
    (positions counted from 1, as in the paper). The class is the order of the X and Y: XX, XY, YX, YY (4
    classes) or 8 with three. Returns x (N, T_max, 8) float64 one-hot, padded with zeros, lengths (N,) and
    labels (N,) in [0, 2^relevant): bit k of the label is 1 where the k-th relevant symbol is Y.
    """
    _check("n", n, 1)
    if relevant not in TEMPORAL_ORDER_WINDOWS:
        raise ParameterError(f"expected relevant to be 2 (experiment 6a) or 3 (6b), got {relevant!r}")
    rng = np.random.default_rng(rng)
    lengths = rng.integers(100, 111, size=n)
    symbols = rng.integers(0, 4, size=(n, int(lengths.max())))  # a-d
    labels = np.zeros(n, dtype=np.int64)
    for k, (low, high) in enumerate(TEMPORAL_ORDER_WINDOWS[relevant]):
        where = rng.integers(low, high + 1, size=n) - 1  # 1-based positions in [low, high]
        is_y = rng.integers(0, 2, size=n)
        symbols[np.arange(n), where] = 4 + is_y  # X or Y
        labels += is_y << (relevant - 1 - k)
    symbols[:, 0] = 6  # E
    symbols[np.arange(n), lengths - 1] = 7  # B
    x = np.eye(len(TEMPORAL_ORDER_SYMBOLS))[symbols]
    x[np.arange(x.shape[1])[None, :] >= lengths[:, None]] = 0.0  # padding
    return x, lengths, labels


def adding_problem_1997(n: int, length: int = 100, rng: np.random.Generator | None = None):
    """The adding problem exactly as Hochreiter & Schmidhuber 1997 define it (experiment 4).

    Each step is a pair: a value drawn from [-1, 1] and a marker. A sequence has a random length between T and
    T + T/10 (``length`` = T). Two pairs are marked with 1.0: one of the first ten (its value X1), then one of
    the first T/2 - 1 pairs not yet marked (X2). The markers of all other pairs are 0, except the first and the
    last pair's, which are -1 (in the rare case where the first pair is a marked one, its value is set to 0). The
    target, at the sequence's last step, is 0.5 + (X1 + X2) / 4, the sum scaled into [0, 1]; the paper counts a
    sequence right when the absolute error there is below 0.04.

    Returns x (N, T_max, 2) float64, padded with zeros, lengths (N,) and targets (N, 1).
    """
    _check("n", n, 1)
    _check("length", length, 22)  # so that the first ten pairs lie within the first T/2 - 1
    rng = np.random.default_rng(rng)
    lengths = rng.integers(length, length + length // 10 + 1, size=n)
    rows = np.arange(n)
    x = np.zeros((n, int(lengths.max()), 2))
    valid = np.arange(x.shape[1])[None, :] < lengths[:, None]
    x[..., 0] = np.where(valid, rng.uniform(-1.0, 1.0, size=(n, x.shape[1])), 0.0)
    x[rows, 0, 1] = -1.0
    x[rows, lengths - 1, 1] = -1.0
    first = rng.integers(0, 10, size=n)
    # the second: one of positions 0 .. T/2 - 2 other than the first (T/2 - 1 candidates, less the first)
    second = rng.integers(0, length // 2 - 2, size=n)
    second += second >= first
    x[rows, first, 1] = x[rows, second, 1] = 1.0
    x[rows[(first == 0) | (second == 0)], 0, 0] = 0.0  # a marked first pair counts 0
    targets = 0.5 + (x[rows, first, 0] + x[rows, second, 0]) / 4.0
    return x, lengths, targets[:, None]
