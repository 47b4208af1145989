"""torch.nn's own error inputs for its recurrent modules (``module_db``), run against lstmkit.nn's classes with
the same arguments: every one raises the exception type torch raises, so code catching torch's types works."""

from __future__ import annotations

import pytest
import torch
from torch.testing._internal import common_modules  # needs expecttest (a test extra)

from lstmkit import nn as lnn
from lstmkit.errors import LstmkitError

OURS = {
    "nn.RNN": lnn.RNN,
    "nn.GRU": lnn.GRU,
    "nn.LSTM": lnn.LSTM,
    "nn.RNNCell": lnn.RNNCell,
    "nn.GRUCell": lnn.GRUCell,
    "nn.LSTMCell": lnn.LSTMCell,
}


def error_inputs():
    found = []
    for info in common_modules.module_db:
        if info.name in OURS and info.module_error_inputs_func is not None:
            inputs = info.module_error_inputs_func(
                info, device="cpu", dtype=torch.float32, requires_grad=False, training=False
            )
            found += [pytest.param(info.name, error, id=f"{info.name}-{k}") for k, error in enumerate(inputs)]
    return found


ERROR_INPUTS = error_inputs()


def test_torch_provides_error_inputs_for_all_six_classes():
    assert {name for name, *_ in (p.values for p in ERROR_INPUTS)} == set(OURS)
    assert len(ERROR_INPUTS) >= 50


@pytest.mark.parametrize(("name", "error"), ERROR_INPUTS)
def test_raises_the_type_torch_raises(name, error):
    given = error.module_error_input
    construct = error.error_on == common_modules.ModuleErrorEnum.CONSTRUCTION_ERROR
    with pytest.raises(error.error_type) as raised:
        module = OURS[name](*given.constructor_input.args, **given.constructor_input.kwargs)
        if not construct:
            module(*given.forward_input.args, **given.forward_input.kwargs)
    assert isinstance(raised.value, LstmkitError)  # ours, with our message, and torch's type
    with pytest.raises(error.error_type):  # and torch itself agrees that this input is an error of that type
        module = getattr(torch.nn, name.removeprefix("nn."))(
            *given.constructor_input.args, **given.constructor_input.kwargs
        )
        if not construct:
            module(*given.forward_input.args, **given.forward_input.kwargs)
