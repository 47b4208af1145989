"""The reference against torch.nn.LSTM/GRU/RNN, an independent implementation, in float64.

The parameter dicts load into torch with ``load_state_dict`` as they are: same keys, same layout.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference as ref
from tests.reference.helpers import random_params, random_state, state_parts
from tests.tolerances import TORCH_FLOAT64_ABS

torch = pytest.importorskip("torch")

T, N, H_IN, H = 5, 4, 3, 4
LENGTHS = [5, 2, 4, 1]


def torch_module(kind: str, params: dict[str, np.ndarray], **options):
    config = ref.infer_config(kind, params)
    common = dict(
        input_size=config.input_size,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        bias=config.bias,
    )
    if kind == "lstm":
        module = torch.nn.LSTM(**common, proj_size=config.proj_size)
    elif kind == "gru":
        module = torch.nn.GRU(**common)
    else:
        module = torch.nn.RNN(**common, nonlinearity="relu" if kind == "rnn_relu" else "tanh")
    module = module.double()
    module.load_state_dict({key: torch.from_numpy(value.copy()) for key, value in params.items()})
    return module


def run_torch(module, x, state0, lengths, dout, dfinal):
    """Forward and backward through torch: returns out, final state parts, grads, dx, dstate0 parts."""
    x_t = torch.tensor(x, requires_grad=True)
    state_t = tuple(torch.tensor(s, requires_grad=True) for s in state_parts(state0))
    hx = state_t if len(state_t) == 2 else state_t[0]
    if lengths is None:
        out, final = module(x_t, hx)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x_t, torch.tensor(lengths), enforce_sorted=False)
        out, final = module(packed, hx)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=len(x))
    final = final if isinstance(final, tuple) else (final,)
    loss = (out * torch.from_numpy(dout)).sum()
    loss = loss + sum((f * torch.from_numpy(d)).sum() for f, d in zip(final, state_parts(dfinal), strict=True))
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in module.named_parameters()}
    return (
        out.detach().numpy(),
        [f.detach().numpy() for f in final],
        grads,
        x_t.grad.numpy(),
        [s.grad.numpy() for s in state_t],
    )


CASES = [
    ("lstm", {}),
    ("lstm", {"num_layers": 2, "bidirectional": True}),
    ("lstm", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("lstm", {"bias": False}),
    ("gru", {"num_layers": 2, "bidirectional": True}),
    ("gru", {"bias": False}),
    ("rnn", {"num_layers": 2, "bidirectional": True}),
    ("rnn_relu", {"num_layers": 2}),
]


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize(("kind", "options"), CASES, ids=[f"{k}-{o}" for k, o in CASES])
def test_matches_torch_in_float64(kind, options, lengths):
    rng = np.random.default_rng(11)
    params = random_params(kind, H_IN, H, **options)
    x = rng.normal(size=(T, N, H_IN))
    state0 = random_state(kind, params, N, rng)
    out, final, cache = ref.forward(kind, params, x, state0, lengths)
    dout = rng.normal(size=out.shape)
    dfinal_parts = tuple(rng.normal(size=s.shape) for s in state_parts(final))
    dfinal = dfinal_parts if isinstance(final, tuple) else dfinal_parts[0]
    grads, dx, dstate0 = ref.backward(kind, params, cache, dout, dfinal)

    t_out, t_final, t_grads, t_dx, t_dstate0 = run_torch(torch_module(kind, params), x, state0, lengths, dout, dfinal)

    np.testing.assert_allclose(out, t_out, rtol=0, atol=TORCH_FLOAT64_ABS)
    for ours, theirs in zip(state_parts(final), t_final, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_FLOAT64_ABS)
    assert list(grads) == list(t_grads)
    for name in grads:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=0, atol=TORCH_FLOAT64_ABS, err_msg=name)
    np.testing.assert_allclose(dx, t_dx, rtol=0, atol=TORCH_FLOAT64_ABS)
    for ours, theirs in zip(state_parts(dstate0), t_dstate0, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TORCH_FLOAT64_ABS)


def test_truncated_backprop_matches_torch_with_detached_state():
    rng = np.random.default_rng(5)
    params = random_params("lstm", H_IN, H, num_layers=2)
    x = rng.normal(size=(10, N, H_IN))
    target = rng.normal(size=(10, N, H))

    def loss_grad(out, start):
        return ref.mse_loss(out, target[start : start + len(out)])

    loss, grads, (h_n, c_n) = ref.truncated_backward("lstm", params, x, 4, loss_grad)

    module = torch_module("lstm", params)
    state, t_loss = None, 0.0
    for start in range(0, 10, 4):
        out, state = module(torch.from_numpy(x[start : start + 4]), state)
        chunk_loss = torch.nn.functional.mse_loss(out, torch.from_numpy(target[start : start + 4]))
        chunk_loss.backward()
        t_loss += chunk_loss.item()
        state = tuple(s.detach() for s in state)
    assert loss == pytest.approx(t_loss, abs=1e-12)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=0, atol=TORCH_FLOAT64_ABS, err_msg=name)
    np.testing.assert_allclose(h_n, state[0].numpy(), atol=TORCH_FLOAT64_ABS)
    np.testing.assert_allclose(c_n, state[1].numpy(), atol=TORCH_FLOAT64_ABS)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_two_training_steps_match_torch(optimizer):
    """An LSTM with a linear head, trained two steps (L2, clipping, momentum/Adam) by both."""
    rng = np.random.default_rng(2)
    params = random_params("lstm", H_IN, H)
    head_w, head_b = rng.normal(size=(2, H)), rng.normal(size=2)
    x, y = rng.normal(size=(T, N, H_IN)), rng.normal(size=(N, 2))
    weights = params | {"head.weight": head_w, "head.bias": head_b}

    module = torch_module("lstm", params)
    head = torch.nn.Linear(H, 2).double()
    head.load_state_dict({"weight": torch.from_numpy(head_w.copy()), "bias": torch.from_numpy(head_b.copy())})
    t_params = list(module.parameters()) + list(head.parameters())
    if optimizer == "sgd":
        ours = ref.SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
        theirs = torch.optim.SGD(t_params, lr=0.1, momentum=0.9, weight_decay=0.01)
    else:
        ours = ref.Adam(lr=0.05, weight_decay=0.01)
        theirs = torch.optim.Adam(t_params, lr=0.05, weight_decay=0.01)

    for _ in range(2):
        out, _, cache = ref.forward("lstm", params, x)
        pred = ref.affine(out[-1], weights["head.weight"], weights["head.bias"])
        _, dpred = ref.mse_loss(pred, y)
        dlast, dw, db = ref.affine_backward(dpred, out[-1], weights["head.weight"])
        dout = np.zeros_like(out)
        dout[-1] = dlast
        grads, _, _ = ref.backward("lstm", params, cache, dout)
        grads, _ = ref.clip_grad_norm(grads | {"head.weight": dw, "head.bias": db}, max_norm=0.5)
        ours.step(weights, grads)
        params = {key: weights[key] for key in params}

        theirs.zero_grad()
        t_out, _ = module(torch.from_numpy(x))
        torch.nn.functional.mse_loss(head(t_out[-1]), torch.from_numpy(y)).backward()
        torch.nn.utils.clip_grad_norm_(t_params, max_norm=0.5)
        theirs.step()

    for name, p in module.named_parameters():
        np.testing.assert_allclose(weights[name], p.detach().numpy(), rtol=0, atol=TORCH_FLOAT64_ABS, err_msg=name)
    np.testing.assert_allclose(weights["head.weight"], head.weight.detach().numpy(), atol=TORCH_FLOAT64_ABS)
