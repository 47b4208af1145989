"""Creating and initializing parameters in torch.nn's names, shapes and order."""

from __future__ import annotations

import math
import re

import torch
from torch import nn

from lstmkit import specs
from lstmkit.errors import ParameterError
from lstmkit.specs import RecurrentConfig


def check_sizes(kind: str, input_size, hidden_size, num_layers, proj_size, dropout: float, **probabilities) -> None:
    """torch.nn's argument checks (``lstmkit.specs.check_sizes``) plus dropout-like probabilities in [0, 1)."""
    specs.check_sizes(kind, input_size, hidden_size, num_layers, proj_size)
    for name, value in {"dropout": dropout, **probabilities}.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
            raise ParameterError(f"expected {name} to be a probability in [0, 1), got {value!r}")


def create(module: nn.Module, config: RecurrentConfig, suffix: bool, device=None, dtype=None) -> list[str]:
    """Register every parameter of ``config`` on ``module`` in torch's order; returns their names.

    ``suffix=False`` drops the ``_l0`` of one-step cells (``weight_ih`` as in ``torch.nn.LSTMCell``).
    """
    names = []
    for key, shape in config.expected_shapes().items():
        name = key if suffix else key.removesuffix("_l0")
        module.register_parameter(name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        names.append(name)
    return names


@torch.no_grad()
def reset(module: nn.Module, names: list[str], config: RecurrentConfig, forget_bias, input_bias) -> None:
    """torch's init, U(-1/sqrt(H), 1/sqrt(H)) for weights and biases; layer-norm gains 1, biases 0;
    ``forget_bias`` / ``input_bias`` set the total bias of that gate (bias_ih chunk = value, bias_hh 0)."""
    spec = config.spec
    inits = {extra.name: extra.init for extra in spec.extra_params}
    bound = 1.0 / math.sqrt(config.hidden_size)
    for name in names:
        init = inits.get(re.sub(r"_l\d+(_reverse)?$", "", name), "uniform")
        parameter = getattr(module, name)
        if init == "uniform":
            parameter.uniform_(-bound, bound)
        else:
            parameter.fill_(1.0 if init == "ones" else 0.0)
    for value, gate in ((forget_bias, "f"), (input_bias, "i")):
        if value is None:
            continue
        rows = spec.gate_slice(gate, config.hidden_size)
        for name in names:
            if name.startswith("bias_ih"):
                getattr(module, name)[rows] = value
            elif name.startswith("bias_hh"):
                getattr(module, name)[rows] = 0.0
