"""The NumPy reference as a learning tool: run a peephole LSTM, backprop through time by hand, and check every
gradient against finite differences.

    python examples/reference_gradients.py
"""

from __future__ import annotations

import numpy as np

from lstmkit import reference as ref


def main() -> None:
    rng = np.random.default_rng(0)
    params = ref.init_params("peephole", input_size=3, hidden_size=4, num_layers=2, bidirectional=True, seed=0)
    x = rng.normal(size=(6, 2, 3))  # (T, N, H_in)
    lengths = [6, 4]
    out, (h_n, c_n), cache = ref.forward("peephole", params, x, lengths=lengths)
    dout = rng.normal(size=out.shape)  # an upstream gradient on every output
    grads, dx, _ = ref.backward("peephole", params, cache, dout)

    def loss() -> float:
        return float(np.sum(ref.forward("peephole", params, x, lengths=lengths)[0] * dout))

    errors = ref.check_gradients(loss, params | {"x": x}, grads | {"x": dx})
    for name, error in errors.items():
        print(f"{name:<24} relative error {error:.1e}")
    worst = max(errors.values())
    print(f"worst relative error {worst:.1e}: {'exact' if worst < 1e-6 else 'WRONG'}")


if __name__ == "__main__":
    main()
