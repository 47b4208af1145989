"""Optimizers and gradient clipping for parameter dicts, with PyTorch's update rules.

``weight_decay`` is L2 regularization added to the gradient (g + wd * p), as in ``torch.optim.SGD``
and ``torch.optim.Adam``. Optimizers update the arrays in place and keep their state per key.
"""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ParameterError

Arrays = dict[str, np.ndarray]


def _check_positive(name: str, value: float, allow_zero: bool = True) -> None:
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ParameterError(f"expected {name} {'>=' if allow_zero else '>'} 0, got {value!r}")


def global_norm(grads: Arrays) -> float:
    """sqrt of the sum of squares of every gradient entry."""
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))


def clip_grad_norm(grads: Arrays, max_norm: float) -> tuple[Arrays, float]:
    """Scale all gradients by min(1, max_norm / (norm + 1e-6)), as ``torch.nn.utils.clip_grad_norm_``.

    Returns the clipped gradients (new arrays) and the norm before clipping.
    """
    _check_positive("max_norm", max_norm, allow_zero=False)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / (norm + 1e-6))
    return {key: g * scale for key, g in grads.items()}, norm


class SGD:
    """v = momentum * v + (g + wd * p);  p -= lr * v   (v = g at the first step, as torch)."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0):
        _check_positive("lr", lr, allow_zero=False)
        _check_positive("momentum", momentum)
        _check_positive("weight_decay", weight_decay)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity: Arrays = {}

    def step(self, params: Arrays, grads: Arrays) -> None:
        for key, p in params.items():
            g = grads[key] + self.weight_decay * p if self.weight_decay else grads[key]
            if self.momentum:
                v = self.velocity.get(key)
                g = self.velocity[key] = g.copy() if v is None else self.momentum * v + g
            p -= self.lr * g


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ):
        _check_positive("lr", lr, allow_zero=False)
        _check_positive("weight_decay", weight_decay)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ParameterError(f"expected betas in [0, 1), got {betas!r}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m: Arrays = {}
        self.v: Arrays = {}
        self.t = 0

    def step(self, params: Arrays, grads: Arrays) -> None:
        self.t += 1
        b1, b2 = self.betas
        correction1, correction2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for key, p in params.items():
            g = grads[key] + self.weight_decay * p if self.weight_decay else grads[key]
            m = self.m[key] = b1 * self.m.get(key, 0.0) + (1.0 - b1) * g
            v = self.v[key] = b2 * self.v.get(key, 0.0) + (1.0 - b2) * g * g
            p -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
