"""Training-time masks: dropout between layers, variational recurrent dropout, zoneout.

- Dropout between layers (torch's ``dropout``): a fresh mask per element of each layer's output, as
  ``torch.nn.functional.dropout``.
- Recurrent dropout (Gal & Ghahramani 2016): one mask per sequence and unit, fixed over all steps,
  on h_{t-1} where it enters W_hh h_{t-1}. Inverted scaling: kept units are multiplied by 1/(1-p).
- Zoneout (Krueger et al. 2016): at each step each unit of h (and of c) keeps its previous value with
  probability p. Not scaled.

All three are off in eval mode: the layer then computes its plain cell (Krueger et al. use the
expectation of the zoneout noise at test time instead; lstmkit follows PyTorch's convention that an
eval-mode layer is deterministic and unregularized).
"""

from __future__ import annotations

import torch

from lstmkit.errors import ShapeError
from lstmkit.masks import DropoutMasks
from lstmkit.nn.backends.kernels import bernoulli
from lstmkit.specs import RecurrentConfig


def _keep_scaled(shape, p: float, like: torch.Tensor) -> torch.Tensor:
    """Entries 1/(1-p) with probability 1-p, else 0."""
    return bernoulli(shape, 1.0 - p, like.device).to(like.dtype) / (1.0 - p)


def mask_shapes(config: RecurrentConfig, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """The shape of each mask for one forward over x (T, N, H_in); layer_input is that of each of its L-1."""
    T, N = x.shape[:2]
    LD, D = config.num_layers * config.num_directions, config.num_directions
    P, H = config.state_size, config.hidden_size
    return {
        "layer_input": (T, N, D * P),
        "recurrent": (LD, N, P),
        "zoneout_h": (LD, T, N, P),
        "zoneout_c": (LD, T, N, H),
    }


def sample_masks(
    config: RecurrentConfig, x: torch.Tensor, dropout: float, recurrent_dropout: float, zoneout: float
) -> DropoutMasks:
    """Fresh masks for one training forward over x (T, N, H_in)."""
    shapes = mask_shapes(config, x)
    layer_input = (
        [_keep_scaled(shapes["layer_input"], dropout, x) for _ in range(config.num_layers - 1)] if dropout else None
    )
    recurrent = _keep_scaled(shapes["recurrent"], recurrent_dropout, x) if recurrent_dropout else None
    zoneout_h = zoneout_c = None
    if zoneout:
        zoneout_h = bernoulli(shapes["zoneout_h"], zoneout, x.device)
        if config.spec.has_cell_state:
            zoneout_c = bernoulli(shapes["zoneout_c"], zoneout, x.device)
    return DropoutMasks(layer_input, recurrent, zoneout_h, zoneout_c)


def check_masks(config: RecurrentConfig, masks: DropoutMasks, x: torch.Tensor) -> DropoutMasks:
    """Given masks as tensors of x's dtype (dropout) or bool (zoneout) on x's device, each of the shape
    ``sample_masks`` draws for x (T, N, H_in); ShapeError naming the mask otherwise."""
    shapes = mask_shapes(config, x)

    def checked(name: str, value, shape: tuple[int, ...], dtype: torch.dtype):
        if value is None:
            return None
        value = torch.as_tensor(value)
        if tuple(value.shape) != shape:
            raise ShapeError(f"expected masks.{name} of shape {shape}, got {tuple(value.shape)}")
        return value.to(device=x.device, dtype=dtype)

    layer_input = masks.layer_input
    if layer_input is not None:
        if len(layer_input) != config.num_layers - 1:
            raise ShapeError(f"expected masks.layer_input as {config.num_layers - 1} masks, got {len(layer_input)}")
        layer_input = [
            checked(f"layer_input[{k}]", m, shapes["layer_input"], x.dtype) for k, m in enumerate(layer_input)
        ]
    return DropoutMasks(
        layer_input,
        checked("recurrent", masks.recurrent, shapes["recurrent"], x.dtype),
        checked("zoneout_h", masks.zoneout_h, shapes["zoneout_h"], torch.bool),
        checked("zoneout_c", masks.zoneout_c, shapes["zoneout_c"], torch.bool),
    )
