"""Parameter dicts in PyTorch's layout: creation, validation, and per-layer views.

A parameter dict maps the exact keys of the matching ``torch.nn.LSTM/GRU/RNN`` ``state_dict()``
(``weight_ih_l0``, ``weight_hh_l1_reverse``, ``bias_ih_l0``, ...; variants add the names listed in
``lstmkit.specs``) to NumPy arrays. Moving weights between the reference, ``lstmkit.nn`` and
``torch.nn`` is therefore a rename at most, never a reorder.
"""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ParameterError, ShapeError
from lstmkit.specs import RecurrentConfig, check_gate_biases, check_sizes, get_spec, param_name

Params = dict[str, np.ndarray]


def init_params(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    *,
    bias: bool = True,
    proj_size: int = 0,
    forget_bias: float | None = None,
    input_bias: float | None = None,
    seed: int | None = 0,
    dtype: np.dtype | type = np.float64,
) -> Params:
    """Fresh parameters with PyTorch's default init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).

    Layer-norm gains start at 1 and layer-norm biases at 0. ``forget_bias`` / ``input_bias`` set the
    *total* bias of that gate (``bias_ih`` chunk = value, ``bias_hh`` chunk = 0) in every layer and
    direction: long-time-lag problems want e.g. ``forget_bias=5.0, input_bias=-3.0``. The coupled
    cell has no forget gate of its own (f = 1 - i): set ``input_bias`` there instead.
    """
    spec = check_sizes(kind, input_size, hidden_size, num_layers, proj_size)
    check_gate_biases(kind, bias, forget_bias, input_bias)
    config = RecurrentConfig(kind, input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden_size)
    inits = {extra.name: extra.init for extra in spec.extra_params}
    params: Params = {}
    for key, shape in config.expected_shapes().items():
        init = inits.get(key.rsplit("_l", 1)[0], "uniform")
        if init == "uniform":
            params[key] = rng.uniform(-bound, bound, size=shape).astype(dtype)
        else:
            params[key] = (np.ones if init == "ones" else np.zeros)(shape, dtype=dtype)
    for value, gate in ((forget_bias, "f"), (input_bias, "i")):
        if value is None:
            continue
        rows = spec.gate_slice(gate, hidden_size)
        for layer in range(num_layers):
            for reverse in (False, True)[: config.num_directions]:
                params[param_name("bias_ih", layer, reverse)][rows] = value
                params[param_name("bias_hh", layer, reverse)][rows] = 0.0
    return params


def infer_config(kind: str, params: Params) -> RecurrentConfig:
    """Read the sizes off ``params`` and check every key and shape against them.

    Raises ``ParameterError`` for missing or unexpected keys or non-float arrays, ``ShapeError``
    for a parameter of the wrong shape.
    """
    spec = get_spec(kind)
    if not isinstance(params, dict):
        raise ParameterError(f"expected params as a dict of NumPy arrays, got {type(params).__name__}")
    if "weight_ih_l0" not in params:
        raise ParameterError(f"params has no 'weight_ih_l0'; got keys {sorted(params)}")
    rows, input_size = np.shape(params["weight_ih_l0"])[:1] + np.shape(params["weight_ih_l0"])[-1:]
    if np.ndim(params["weight_ih_l0"]) != 2 or rows % spec.num_chunks:
        raise ShapeError(
            f"expected weight_ih_l0 of shape ({spec.num_chunks}*H, H_in) for {kind!r}, "
            f"got {np.shape(params['weight_ih_l0'])}"
        )
    num_layers = 1
    while param_name("weight_ih", num_layers, False) in params:
        num_layers += 1
    proj_size = np.shape(params["weight_hr_l0"])[0] if "weight_hr_l0" in params else 0
    config = RecurrentConfig(
        kind,
        input_size=int(input_size),
        hidden_size=rows // spec.num_chunks,
        num_layers=num_layers,
        bidirectional="weight_ih_l0_reverse" in params,
        bias="bias_ih_l0" in params,
        proj_size=int(proj_size),
    )
    expected = config.expected_shapes()
    missing = [k for k in expected if k not in params]
    unexpected = [k for k in params if k not in expected]
    if missing or unexpected:
        raise ParameterError(
            f"parameters do not match a {kind!r} layer ({config.num_layers} layer(s), "
            f"{'bi' if config.bidirectional else 'uni'}directional, bias={config.bias}, proj_size={proj_size}): "
            f"missing {missing}, unexpected {unexpected}"
        )
    dtypes = set()
    for key, shape in expected.items():
        value = params[key]
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            raise ParameterError(
                f"expected {key} to be a floating-point NumPy array, got {type(value).__name__}"
                f"{'' if not isinstance(value, np.ndarray) else ' of dtype ' + str(value.dtype)}"
            )
        if value.shape != shape:
            raise ShapeError(f"expected {key} of shape {shape}, got {value.shape}")
        dtypes.add(value.dtype)
    if len(dtypes) > 1:
        raise ParameterError(f"expected every parameter in one dtype, got {sorted(map(str, dtypes))}")
    return config


def layer_params(params: Params, layer: int, reverse: bool) -> dict[str, np.ndarray]:
    """The parameters of one layer and direction, under their base names (``weight_ih``, ...)."""
    suffix = param_name("", layer, reverse)
    return {key[: -len(suffix)]: value for key, value in params.items() if key.endswith(suffix)}
