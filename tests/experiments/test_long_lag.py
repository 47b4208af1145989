"""A short version of the long-time-lag experiment: same code as the CLI, small sizes."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import reference as ref
from lstmkit.errors import ParameterError
from lstmkit.experiments.long_lag import LastStepModel, LongLagConfig, _loss, compare, make_batch, train


def test_lstm_remembers_the_first_symbol_where_the_rnn_does_not():
    config = LongLagConfig.for_task("first-symbol", length=20, steps=150, hidden_size=16, eval_size=256)
    results = compare(config)
    lstm, rnn = results["lstm"], results["rnn"]
    assert lstm.metric_name == "accuracy" and lstm.baseline == 0.25
    assert lstm.solved and lstm.metric >= 0.95
    assert not rnn.solved and rnn.metric < 0.7
    assert len(lstm.train_loss) == 150 and lstm.train_loss[-1] < lstm.train_loss[0]
    # The error signal that reaches t = 0, relative to t = T-1: the RNN's has vanished.
    lstm_ratio = lstm.grad_norms[0] / lstm.grad_norms[-1]
    rnn_ratio = rnn.grad_norms[0] / rnn.grad_norms[-1]
    assert rnn_ratio < 1e-6 * lstm_ratio


def test_measured_gradient_norms_are_those_of_backprop_through_the_model():
    """grad_norms[t] = mean over the batch of ||dL/dh_t||, checked by finite differences on h_t's
    influence: perturbing x_t only moves L through h_t, so compare with the reference backward."""
    config = LongLagConfig.for_task("adding", length=6, hidden_size=4, steps=2)
    model = LastStepModel("lstm", config, 2, 1, seed=0)
    x, y = make_batch(config, 3, np.random.default_rng(0))
    loss_fn = lambda pred, target: _loss(config, pred, target)  # noqa: E731
    loss, grads, norms = model.loss_and_grads(x, y, loss_fn)

    recurrent = model.recurrent
    out, _, cache = ref.forward("lstm", recurrent, x)
    expected = np.zeros(6)
    dh = np.zeros_like(out)  # dL/dh_t by running backward from h_t alone, step by step
    dlast = ref.affine_backward(loss_fn(model.predict(x), y)[1], out[-1], model.params["head.weight"])[0]
    dh[-1] = dlast
    for t in range(6):
        _, state_t, _ = ref.forward("lstm", recurrent, x[: t + 1])
        if t < 5:
            rest_out, _, rest_cache = ref.forward("lstm", recurrent, x[t + 1 :], state_t)
            d_rest = np.zeros_like(rest_out)
            d_rest[-1] = dlast
            _, _, (dh_t, _) = ref.backward("lstm", recurrent, rest_cache, d_rest)
            expected[t] = np.linalg.norm(dh_t[0], axis=-1).mean()
        else:
            expected[t] = np.linalg.norm(dlast, axis=-1).mean()
    np.testing.assert_allclose(norms, expected, rtol=1e-10)
    assert set(grads) == set(model.params)
    assert loss == pytest.approx(loss_fn(model.predict(x), y)[0])


def test_training_is_reproducible_with_a_seed():
    config = LongLagConfig.for_task("adding", length=8, steps=5, hidden_size=4, eval_size=16, seed=3)
    a, b = train("lstm", config), train("lstm", config)
    assert a.train_loss == b.train_loss and a.metric == b.metric


def test_config_checks():
    with pytest.raises(ParameterError, match="unknown task 'copy'"):
        LongLagConfig(task="copy")
    with pytest.raises(ParameterError, match="expected length >= 2, got 1"):
        LongLagConfig(length=1)
    assert LongLagConfig.for_task("first-symbol").forget_bias == 5.0
    assert LongLagConfig.for_task("adding", steps=7).steps == 7
