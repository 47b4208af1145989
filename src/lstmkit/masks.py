"""Fixed regularization masks, shared by the NumPy reference and the PyTorch layers.

Given the same masks, a stochastic layer (dropout between layers, recurrent dropout, zoneout) computes
the same thing in both, which is how ``lstmkit.nn`` is checked against the reference. Arrays may be
NumPy arrays (reference) or tensors (``lstmkit.nn``).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class DropoutMasks(NamedTuple):
    """Fixed regularization masks for one forward pass (None: off). Values, not probabilities.

    - ``layer_input``: L-1 arrays (T, N, D*P) multiplying the input of layers 1 .. L-1 (torch's
      ``dropout`` between layers; entries 0 or 1/(1-p));
    - ``recurrent``: (L*D, N, P) multiplying h_{t-1} inside W_hh h_{t-1} at every step, one mask per
      sequence (variational dropout, Gal & Ghahramani 2016; entries 0 or 1/(1-p));
    - ``zoneout_h``, ``zoneout_c``: (L*D, T, N, P) and (L*D, T, N, H) bool, True where the unit keeps
      its previous value (zoneout, Krueger et al. 2016): h_t = h_{t-1} there. Indexed by position in
      the sequence, for both directions.
    """

    layer_input: Any = None
    recurrent: Any = None
    zoneout_h: Any = None
    zoneout_c: Any = None
