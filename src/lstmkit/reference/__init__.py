"""The NumPy reference of lstmkit: the recurrent cell family as equations, with exact backprop.

Pure NumPy, float64 by default, never imports torch. Everything else in lstmkit is tested against it::

    from lstmkit import reference as ref
    params = ref.init_params("lstm", input_size=3, hidden_size=2, num_layers=1, bidirectional=False, seed=0)
    out, state, cache = ref.forward("lstm", params, x, state=None, lengths=None)  # x (T, N, H_in)
    grads, dx, dstate0 = ref.backward("lstm", params, cache, dout, dstate=None)
"""

from lstmkit.masks import DropoutMasks
from lstmkit.reference.gradcheck import check_gradients, numerical_gradient, relative_error
from lstmkit.reference.linear import affine, affine_backward
from lstmkit.reference.losses import cross_entropy_loss, mse_loss
from lstmkit.reference.optim import SGD, Adam, clip_grad_norm, global_norm
from lstmkit.reference.params import RecurrentConfig, infer_config, init_params, param_name
from lstmkit.reference.sequence import (
    BackwardResult,
    backward,
    backward_detailed,
    forward,
    reverse_time,
    truncated_backward,
)

__all__ = [
    "SGD",
    "Adam",
    "BackwardResult",
    "DropoutMasks",
    "RecurrentConfig",
    "affine",
    "affine_backward",
    "backward",
    "backward_detailed",
    "check_gradients",
    "clip_grad_norm",
    "cross_entropy_loss",
    "forward",
    "global_norm",
    "infer_config",
    "init_params",
    "mse_loss",
    "numerical_gradient",
    "param_name",
    "relative_error",
    "reverse_time",
    "truncated_backward",
]
