"""What the gates do, from trained models: the data behind ``lstmkit demo gates``.

An LSTM, a GRU and a vanilla RNN (lstmkit.nn layers, same width) learn "remember the first symbol":
the first step shows one of K symbols (upper-case letters), every later step a distractor from M others
(lower-case). After training, one held-out batch is run through each model to record the LSTM's gates
and cell state, every model's hidden state, and the gradient of the loss (at the last step) with
respect to each step's hidden and cell state, by real backprop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmkit.data.synthetic import first_symbol
from lstmkit.experiments.nets import LastStepNet
from lstmkit.nn.gradients import gradient_norms, state_gradients
from lstmkit.trace import GateTrace
from lstmkit.training import TrainConfig, Trainer

MODELS = {"LSTM": "lstm", "GRU": "gru", "vanilla RNN": "rnn"}  # name -> cell


@dataclass
class GateDemo:
    text: str  # the first held-out sequence as characters
    inputs: np.ndarray  # (T, K+M) its one-hot input
    trace: GateTrace  # the LSTM's gates, c and h on the held-out batch
    hidden: dict[str, np.ndarray]  # model -> (T, H) hidden states of the first sequence
    grad_h: dict[str, np.ndarray]  # model -> (T,) mean ||dL/dh_t||
    grad_c: dict[str, np.ndarray]  # LSTM -> (T,) mean ||dL/dc_t||
    accuracy: dict[str, float]  # model -> held-out accuracy


def _text(x: np.ndarray, num_symbols: int) -> str:
    symbols = x.argmax(-1)
    return "".join(chr(ord("A") + s) if s < num_symbols else chr(ord("a") + s - num_symbols) for s in symbols)


def run_gate_demo(
    length: int = 30,
    hidden_size: int = 16,
    num_symbols: int = 4,
    train_size: int = 2000,
    epochs: int = 30,
    seed: int = 0,
    eval_size: int = 256,
) -> GateDemo:
    """Train the three models with the same data and budget, then look inside them."""
    rng = np.random.default_rng(seed)
    x, y = first_symbol(train_size, length, num_symbols, num_symbols, rng)  # (T, N, C), (N,)
    x_eval, y_eval = first_symbol(eval_size, length, num_symbols, num_symbols, np.random.default_rng(seed + 1))
    to_batch_first = lambda a: torch.from_numpy(a.swapaxes(0, 1)).float()  # noqa: E731
    data, held_out = (to_batch_first(x), torch.from_numpy(y)), to_batch_first(x_eval)
    loss = nn.CrossEntropyLoss()
    labels = torch.from_numpy(y_eval)
    hidden, grad_h, grad_c, accuracy = {}, {}, {}, {}
    trace = None
    for kind, cell in MODELS.items():
        torch.manual_seed(seed)
        model = LastStepNet(cell, x.shape[2], hidden_size, num_symbols, forget_bias=5.0, input_bias=-3.0)
        config = TrainConfig(epochs=epochs, batch_size=64, lr=1e-2, seed=seed, progress=False)
        Trainer(model, loss, config).fit(data)
        model.eval()
        with torch.no_grad():
            accuracy[kind] = float((model(held_out).argmax(-1) == labels).float().mean())
            out = model.rnn(held_out, return_gates=True)
        hidden[kind] = out[2].layer(0)["h"][:, 0]  # (T, H) of the first held-out sequence
        if kind == "LSTM":
            trace = out[2]
        time_first = held_out.transpose(0, 1)
        gradients = state_gradients(model.rnn, time_first, lambda o, m=model: loss(m.output(o[-1]), labels))
        grad_h[kind] = gradient_norms(gradients["dh"][0])
        if "dc" in gradients:
            grad_c[kind] = gradient_norms(gradients["dc"][0])
    return GateDemo(_text(x_eval[:, 0], num_symbols), x_eval[:, 0], trace, hidden, grad_h, grad_c, accuracy)
