"""Every cell kind and option of lstmkit.nn against the NumPy reference, in float64.

Outputs, final states, every parameter gradient, the input gradient and the initial-state gradient,
over bias x batch_first x bidirectional x num_layers x proj_size x variable lengths.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lstmkit import reference as ref
from lstmkit.specs import get_spec
from tests.nn.helpers import FAST_MODES, backend_under_test, make_layer, parts, reference_params, run_layer, torch_masks
from tests.reference.helpers import KINDS, random_masks, random_state
from tests.tolerances import NN_VS_REFERENCE_FLOAT64_ABS as TOL

T, N, H_IN, H = 5, 3, 3, 4
LENGTHS = [5, 2, 4]

FAST_KINDS = ("lstm", "peephole", "coupled", "layernorm")
SWEEP = [
    (backend, kind, bias, batch_first, bidirectional, num_layers, proj_size, lengths)
    for backend, kind, bias, batch_first, bidirectional, num_layers, proj_size, lengths in itertools.product(
        ("native", *FAST_MODES), KINDS, (True, False), (False, True), (False, True), (1, 2), (0, 2), (None, LENGTHS)
    )
    if not (proj_size and not get_spec(kind).supports_projection)
    and not (backend.startswith("fast") and (kind not in FAST_KINDS or proj_size))
]


def assert_close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL, err_msg=what)


def compare_with_reference(layer, kind, x, state0, lengths, rng, masks=None):
    params = reference_params(layer)
    out, final, cache = ref.forward(kind, params, x, state0, lengths, masks)
    dout = rng.normal(size=out.shape)
    dfinal = tuple(rng.normal(size=s.shape) for s in parts(final))
    dfinal = dfinal if isinstance(final, tuple) else dfinal[0]
    grads, dx, dstate0 = ref.backward(kind, params, cache, dout, dfinal)
    t_masks = None if masks is None else torch_masks(masks)
    t_out, t_final, t_grads, t_dx, t_dstate0, _ = run_layer(layer, x, state0, lengths, dout, dfinal, t_masks)
    assert_close(t_out, out, "output")
    for a, b in zip(t_final, parts(final), strict=True):
        assert_close(a, b, "final state")
    assert list(t_grads) == list(grads)
    for name in grads:
        assert_close(t_grads[name], grads[name], name)
    assert_close(t_dx, dx, "dx")
    for a, b in zip(t_dstate0, parts(dstate0), strict=True):
        assert_close(a, b, "d initial state")


@pytest.mark.parametrize(
    ("backend", "kind", "bias", "batch_first", "bidirectional", "num_layers", "proj_size", "lengths"),
    SWEEP,
    ids=["-".join(map(str, case)).replace("[5, 2, 4]", "lengths") for case in SWEEP],
)
def test_backends_match_reference(
    backend, kind, bias, batch_first, bidirectional, num_layers, proj_size, lengths, monkeypatch
):
    backend = backend_under_test(backend, monkeypatch)
    rng = np.random.default_rng(0)
    options = dict(
        bias=bias, batch_first=batch_first, bidirectional=bidirectional, num_layers=num_layers, backend=backend
    )
    if proj_size:
        options["proj_size"] = proj_size
    torch.manual_seed(1)
    layer = make_layer(kind, H_IN, H, **options)
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0.0, 0.5)
    x = rng.normal(size=(T, N, H_IN))
    state0 = random_state(kind, reference_params(layer), N, rng)
    compare_with_reference(layer, kind, x, state0, lengths, rng)


@pytest.mark.parametrize(
    ("backend", "kind"), [("native", kind) for kind in KINDS] + [(b, kind) for b in FAST_MODES for kind in FAST_KINDS]
)
def test_training_mode_with_fixed_masks_matches_reference(backend, kind, monkeypatch):
    """Dropout between layers, recurrent dropout and zoneout, given the same masks as the reference."""
    backend = backend_under_test(backend, monkeypatch)
    rng = np.random.default_rng(3)
    layer = make_layer(
        kind,
        H_IN,
        H,
        num_layers=2,
        bidirectional=True,
        dropout=0.3,
        recurrent_dropout=0.3,
        zoneout=0.2,
        backend=backend,
    )
    layer.train()
    masks = random_masks(kind, reference_params(layer), T, N, rng)
    x = rng.normal(size=(T, N, H_IN))
    state0 = random_state(kind, reference_params(layer), N, rng)
    compare_with_reference(layer, kind, x, state0, LENGTHS, rng, masks)


def test_forget_and_input_bias_set_the_total_gate_bias_like_the_reference():
    layer = make_layer("lstm", 3, 8, num_layers=2, bidirectional=True, forget_bias=5.0, input_bias=-3.0)
    reference = ref.init_params("lstm", 3, 8, num_layers=2, bidirectional=True, forget_bias=5.0, input_bias=-3.0)
    spec = get_spec("lstm")
    for name, value in reference_params(layer).items():
        if name.startswith("bias"):
            for gate in ("i", "f"):
                rows = spec.gate_slice(gate, 8)
                np.testing.assert_array_equal(value[rows], reference[name][rows], err_msg=f"{name} {gate}")
