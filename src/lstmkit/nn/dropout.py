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

from lstmkit.masks import DropoutMasks
from lstmkit.specs import RecurrentConfig


def _keep_scaled(shape, p: float, like: torch.Tensor) -> torch.Tensor:
    """Entries 1/(1-p) with probability 1-p, else 0."""
    return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1.0 - p) / (1.0 - p)


def sample_masks(
    config: RecurrentConfig, x: torch.Tensor, dropout: float, recurrent_dropout: float, zoneout: float
) -> DropoutMasks:
    """Fresh masks for one training forward over x (T, N, H_in)."""
    T, N = x.shape[:2]
    LD, D, P, H = (
        config.num_layers * config.num_directions,
        config.num_directions,
        config.state_size,
        config.hidden_size,
    )
    layer_input = [_keep_scaled((T, N, D * P), dropout, x) for _ in range(config.num_layers - 1)] if dropout else None
    recurrent = _keep_scaled((LD, N, P), recurrent_dropout, x) if recurrent_dropout else None
    zoneout_h = zoneout_c = None
    if zoneout:
        zoneout_h = torch.rand((LD, T, N, P), device=x.device) < zoneout
        if config.spec.has_cell_state:
            zoneout_c = torch.rand((LD, T, N, H), device=x.device) < zoneout
    return DropoutMasks(layer_input, recurrent, zoneout_h, zoneout_c)
