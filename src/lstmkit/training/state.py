"""Optimizer state as tensors (for safetensors) plus JSON, and back: exact, and without pickle."""

from __future__ import annotations

import torch

from lstmkit.errors import CheckpointError


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors named ``optimizer.state.{param}.{key}``, JSON: non-tensor state and the param groups)."""
    state_dict = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, entries in state_dict["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.state.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"scalars": scalars, "param_groups": state_dict["param_groups"]}


def optimizer_from_flat(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], flat: dict) -> None:
    """Load what ``optimizer_to_flat`` wrote into ``optimizer``."""
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer.state."):
            index, key = name.removeprefix("optimizer.state.").split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for name, value in flat["scalars"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    try:
        optimizer.load_state_dict({"state": state, "param_groups": flat["param_groups"]})
    except (ValueError, KeyError) as error:
        raise CheckpointError(f"the checkpoint's optimizer state does not fit this model: {error}") from None
