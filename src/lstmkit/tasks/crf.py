"""A linear-chain conditional random field over per-step scores: the likelihood, Viterbi, and BIO constraints.

For emissions e (N, T, K) (one score per step and tag), a tag path y of a sentence of length L scores

    s(y) = start[y_0] + sum_{t<L} e[t, y_t] + sum_{0<t<L} trans[y_{t-1}, y_t] + end[y_{L-1}]

and p(y) = exp s(y) / Z with Z summed over all K^L paths by the forward algorithm:
alpha_0 = start + e_0, alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + trans[i, j]) + e_t[j], log Z =
logsumexp(alpha_{L-1} + end). Viterbi is the same recursion with max, and back-pointers. Everything is
batched over sentences with a mask (steps past a sentence's length keep its alpha unchanged), with a
Python loop over time steps only.

``bio_constraints(tags)`` gives the transitions a BIO scheme forbids (O -> I-X, B-X -> I-Y, I-X -> I-Y, and a
sentence starting with I-X) as -inf: added to the learned ones, or used alone over softmax scores, Viterbi
then returns only well-formed tag sequences.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class CRF(nn.Module):
    """Transition scores between K tags, learned with the emissions; ``constraints`` (K, K), (K,) and (K,) are
    fixed additions (0 or -inf) to the transition, start and end scores."""

    def __init__(self, num_tags: int, constraints: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        fixed = constraints or (torch.zeros(num_tags, num_tags), torch.zeros(num_tags), torch.zeros(num_tags))
        for name, value in zip(("fixed_transitions", "fixed_start", "fixed_end"), fixed, strict=True):
            self.register_buffer(name, value.float(), persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            self.transitions + self.fixed_transitions,
            self.start + self.fixed_start,
            self.end + self.fixed_end,
        )

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """s(y) of each sentence's ``tags`` (N, T) (padding steps, mask False, may hold any tag), (N,)."""
        trans, start, end = self._scores()
        N, T, _ = emissions.shape
        tags = tags.masked_fill(~mask, 0)
        steps = emissions.gather(2, tags[..., None])[..., 0] * mask  # (N, T)
        moves = trans[tags[:, :-1], tags[:, 1:]] * mask[:, 1:]  # (N, T - 1)
        last = tags.gather(1, (mask.sum(1) - 1)[:, None])[:, 0]
        return start[tags[:, 0]] + steps.sum(1) + moves.sum(1) + end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z of each sentence, (N,), by the forward algorithm."""
        trans, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (N, K)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha[:, :, None] + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t, None], step, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over sentences of -log p(tags), each sentence's steps with ``mask`` (N, T) True (a prefix)."""
        return (self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)).mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best path of each sentence (Viterbi), as lists of tag indices of the sentence's length."""
        trans, start, end = self._scores()
        score = start + emissions[:, 0]  # (N, K)
        pointers = []
        for t in range(1, emissions.shape[1]):
            best, previous = (score[:, :, None] + trans).max(dim=1)  # (N, K): the best previous tag of each tag
            pointers.append(previous)
            score = torch.where(mask[:, t, None], best + emissions[:, t], score)
        last = (score + end).argmax(dim=1)
        lengths = mask.sum(1).tolist()
        paths = []
        for n, length in enumerate(lengths):
            tag = int(last[n])
            path = [tag]
            for t in range(length - 1, 0, -1):  # back-pointer of step t leads to step t - 1
                tag = int(pointers[t - 1][n, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths


def bio_constraints(tags: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(transitions (K, K), start (K,), end (K,)): 0 where a BIO scheme allows the move, -inf where not."""
    from lstmkit.data.tags import split_tag

    K = len(tags)
    parts = [split_tag(tag) for tag in tags]
    transitions, start = torch.zeros(K, K), torch.zeros(K)
    for j, (prefix, kind) in enumerate(parts):
        if prefix == "I":
            start[j] = -math.inf
            for i, (before, before_kind) in enumerate(parts):
                if before == "O" or before_kind != kind:
                    transitions[i, j] = -math.inf
    return transitions, start, torch.zeros(K)
