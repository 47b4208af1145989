"""Moving weights between lstmkit.nn, torch.nn, the NumPy reference and Keras.

lstmkit.nn, torch.nn and the reference share one layout (names, shapes, gate order), so those
conversions are copies and, for one-step cells, the ``_l0`` suffix. Keras lays weights out
transposed, with one bias (LSTM) or a (2, G*H) bias (GRU, ``reset_after=True``), and orders GRU gates
z, r, h where torch has r, z, n: that is reordered here, at the edge, and nowhere else.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstmkit import reference as ref
from lstmkit.errors import ParameterError, ShapeError
from lstmkit.nn.cells import RecurrentCell
from lstmkit.nn.layers import GRU, LSTM, RNN, RecurrentLayer

_TORCH_CLASSES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN, "rnn_relu": nn.RNN}


def _reference_key(module: nn.Module, name: str) -> str:
    return name if isinstance(module, RecurrentLayer) else f"{name}_l0"


def to_reference(module: RecurrentLayer | RecurrentCell, dtype=np.float64) -> dict[str, np.ndarray]:
    """The parameters of an lstmkit.nn layer or cell as a reference parameter dict (``_l0`` added for cells)."""
    if not isinstance(module, RecurrentLayer | RecurrentCell):
        raise ParameterError(f"expected an lstmkit.nn layer or cell, got {type(module).__name__}")
    return {
        _reference_key(module, name): value.detach().cpu().numpy().astype(dtype)
        for name, value in module.named_parameters()
    }


@torch.no_grad()
def load_reference(
    module: RecurrentLayer | RecurrentCell, params: dict[str, np.ndarray]
) -> RecurrentLayer | RecurrentCell:
    """Copy a reference parameter dict into ``module`` (checked by name and shape); returns the module."""
    config = ref.infer_config(module.cell, params)
    if config != module.config:
        raise ParameterError(f"parameters describe {config}, the module is {module.config}")
    for name, value in module.named_parameters():
        value.copy_(torch.from_numpy(np.asarray(params[_reference_key(module, name)])))
    return module


def _shared_options(module: nn.Module) -> dict:
    """The constructor options torch.nn's and lstmkit's layers share, read off either (same attribute names)."""
    weight = module.weight_ih_l0
    names = ("num_layers", "bias", "batch_first", "dropout", "bidirectional")
    return {name: getattr(module, name) for name in names} | {"device": weight.device, "dtype": weight.dtype}


def to_torch(module: RecurrentLayer) -> nn.Module:
    """An equivalent ``torch.nn.LSTM/GRU/RNN`` with the same weights (vanilla cells only)."""
    if not isinstance(module, RecurrentLayer) or module.cell not in _TORCH_CLASSES:
        raise ParameterError(
            f"torch.nn has the vanilla LSTM, GRU and RNN only, got {getattr(module, 'cell', module)!r}"
        )
    options = _shared_options(module)
    if module.cell == "lstm":
        options["proj_size"] = module.proj_size
    elif module.cell.startswith("rnn"):
        options["nonlinearity"] = "relu" if module.cell == "rnn_relu" else "tanh"
    target = _TORCH_CLASSES[module.cell](module.input_size, module.hidden_size, **options)
    target.load_state_dict(module.state_dict())
    return target


def from_torch(source: nn.LSTM | nn.GRU | nn.RNN, **options) -> RecurrentLayer:
    """An lstmkit.nn layer with the weights of a torch.nn one; ``options`` add lstmkit's keywords."""
    common = _shared_options(source)
    if isinstance(source, nn.LSTM):
        layer = LSTM(source.input_size, source.hidden_size, proj_size=source.proj_size, **common, **options)
    elif isinstance(source, nn.GRU):
        layer = GRU(source.input_size, source.hidden_size, **common, **options)
    elif isinstance(source, nn.RNN):
        layer = RNN(source.input_size, source.hidden_size, nonlinearity=source.nonlinearity, **common, **options)
    else:
        raise ParameterError(f"expected torch.nn.LSTM, GRU or RNN, got {type(source).__name__}")
    layer.load_state_dict(source.state_dict())
    return layer


# Keras chunk k of kernel columns -> torch chunk: LSTM i, f, c, o = i, f, g, o; GRU z, r, h -> r, z, n.
_KERAS_ORDER = {"lstm": [0, 1, 2, 3], "gru": [1, 0, 2], "rnn": [0]}


def from_keras(kind: str, kernel, recurrent_kernel, bias=None, layer: int = 0, reverse: bool = False):
    """One Keras LSTM, GRU (``reset_after=True``) or SimpleRNN layer's weights as reference/torch parameters.

    kernel (H_in, G*H), recurrent_kernel (H, G*H), bias (G*H,) for LSTM/SimpleRNN or (2, G*H) for the
    GRU (input and recurrent bias). Returns {``weight_ih_l{layer}``: (G*H, H_in), ``weight_hh_l{layer}``,
    ``bias_ih_l{layer}``, ``bias_hh_l{layer}``} (``_reverse`` with ``reverse``), gates in torch's order.
    """
    if kind not in _KERAS_ORDER:
        raise ParameterError(f"expected kind 'lstm', 'gru' or 'rnn' for Keras weights, got {kind!r}")
    order = _KERAS_ORDER[kind]
    kernel, recurrent_kernel = np.asarray(kernel), np.asarray(recurrent_kernel)
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != len(order) * recurrent_kernel.shape[0]:
        raise ShapeError(
            f"expected a Keras {kind} recurrent_kernel of shape (H, {len(order)}*H), got {recurrent_kernel.shape}"
        )
    H = recurrent_kernel.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != len(order) * H:
        raise ShapeError(f"expected a Keras {kind} kernel of shape (H_in, {len(order) * H}), got {kernel.shape}")

    def reorder(columns: np.ndarray) -> np.ndarray:  # (..., G*H) Keras chunks -> torch chunks
        return np.concatenate([columns[..., k * H : (k + 1) * H] for k in order], axis=-1)

    params = {
        ref.param_name("weight_ih", layer, reverse): reorder(kernel).T.copy(),
        ref.param_name("weight_hh", layer, reverse): reorder(recurrent_kernel).T.copy(),
    }
    if bias is not None:
        bias = np.asarray(bias)
        expected = (2, len(order) * H) if kind == "gru" else (len(order) * H,)
        if bias.shape != expected:
            raise ShapeError(f"expected a Keras {kind} bias of shape {expected}, got {bias.shape}")
        input_bias, recurrent_bias = (bias[0], bias[1]) if kind == "gru" else (bias, np.zeros_like(bias))
        params[ref.param_name("bias_ih", layer, reverse)] = reorder(input_bias)
        params[ref.param_name("bias_hh", layer, reverse)] = reorder(recurrent_bias)
    return params
