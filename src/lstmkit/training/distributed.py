"""Data parallelism under ``torchrun``: gloo on CPU, nccl on GPU, data sharded by rank.

Launched by ``torchrun --nproc_per_node=N`` (and ``--nnodes``), each process reads RANK and WORLD_SIZE
from the environment; the Trainer wraps the model in DistributedDataParallel, gives each rank every
``WORLD_SIZE``-th sample of each global batch, and lets rank 0 alone write checkpoints and logs. With
equal shards, averaging the ranks' gradients equals the gradient of the whole global batch.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    def shard(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's part of a global batch's sample indices."""
        return index if self.size == 1 else index[self.rank :: self.size]


def world() -> World:
    """The process group of this run (initialized on first use under torchrun), or a single process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        atexit.register(_close)
    return World(dist.get_rank(), dist.get_world_size())


def _close() -> None:
    """Destroy the process group before the interpreter exits: gloo's threads left running then make C++ abort the
    process ("terminate called without an active exception", exit -6) now and then, failing a finished run."""
    if dist.is_initialized():
        dist.destroy_process_group()


def place(model: nn.Module, world: World) -> nn.Module:
    """Under torchrun on GPUs, each process uses the GPU of its LOCAL_RANK; otherwise the model stays put."""
    if world.size > 1 and torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        return model.to(device)
    return model


def wrap(model: nn.Module, world: World) -> nn.Module:
    return model if world.size == 1 else nn.parallel.DistributedDataParallel(model)


def mean(values: list[float], world: World) -> float:
    """The mean of ``values`` over every rank (NaN if there are none)."""
    total = torch.tensor([sum(values), len(values)], dtype=torch.float64)
    if world.size > 1:
        dist.all_reduce(total)
    return float(total[0] / total[1]) if total[1] else float("nan")
