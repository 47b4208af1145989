"""Decoding a batch of sequences one token at a time: greedy search, beam search, and sampling.

Both take ``step(previous (M,), carry) -> (logits (M, V), carry, attention (M, S) or None)``, where the carry is
any nest of tuples of tensors whose first dimension is the M rows being decoded, and return, per input row, the
tokens (EOS excluded) and, for each token, the source position the attention weighted most (-1 without
attention): what replacing unknown words by a copy of a source word needs.

Beam search keeps the ``beam_size`` best partial sequences of each input (rows n*B .. n*B+B-1), all inputs in
one batch. A hypothesis ends at EOS or at ``max_length`` tokens; among the finished ones the best by
log-probability / length^alpha (length normalization, Wu et al. 2016's simplest form; alpha = 0 ranks by
log-probability alone, 1 by the mean per token) is returned. Search stops when every input's best finished
hypothesis beats what any live one could still reach, or at ``max_length``.

Sampling (``sample``) draws the next token of each row from softmax(logits / temperature), optionally kept to
the ``top_k`` most likely tokens and to the smallest set whose probabilities sum to at least ``top_p``
(nucleus sampling, Holtzman et al. 2020), renormalized.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Decoded(NamedTuple):
    tokens: list[list[int]]  # per input row, without BOS/EOS
    source_positions: list[list[int]]  # per token: argmax of its attention over the source (-1 without attention)


def select(carry, index: torch.Tensor):
    """The carry with rows ``index`` of every tensor in it (tuples kept as they are)."""
    if isinstance(carry, torch.Tensor):
        return carry.index_select(0, index)
    if isinstance(carry, tuple):
        return tuple(select(part, index) for part in carry)
    return carry


def _positions(attention: torch.Tensor | None, rows: int) -> torch.Tensor:
    return attention.argmax(dim=-1) if attention is not None else torch.full((rows,), -1, dtype=torch.long)


@torch.no_grad()
def greedy_search(step, carry, rows: int, bos: int, eos: int, max_length: int | torch.Tensor) -> Decoded:
    """The most probable token at each step, for ``rows`` inputs decoded together; ``max_length`` an int or (rows,)
    per-row limits."""
    limits = torch.as_tensor(max_length).expand(rows)
    previous = torch.full((rows,), bos, dtype=torch.long)
    done = torch.zeros(rows, dtype=torch.bool)
    tokens, positions = [], []
    for t in range(int(limits.max())):
        logits, carry, attention = step(previous, carry)
        previous = logits.argmax(dim=-1)
        tokens.append(previous)
        positions.append(_positions(attention, rows))
        done |= (previous == eos) | (t + 1 >= limits)
        if bool(done.all()):
            break
    return _trim(torch.stack(tokens, 1), torch.stack(positions, 1), eos, limits)


def _trim(tokens: torch.Tensor, positions: torch.Tensor, eos: int, limits: torch.Tensor) -> Decoded:
    out_tokens, out_positions = [], []
    for row, where, limit in zip(tokens.tolist(), positions.tolist(), limits.tolist(), strict=True):
        end = min(row.index(eos) if eos in row else len(row), int(limit))
        out_tokens.append(row[:end])
        out_positions.append(where[:end])
    return Decoded(out_tokens, out_positions)


@torch.no_grad()
def beam_search(
    step,
    carry,
    rows: int,
    bos: int,
    eos: int,
    max_length: int | torch.Tensor,
    beam_size: int,
    alpha: float = 0.5,
) -> Decoded:
    """Batched beam search (see the module docstring); ``carry`` holds ``rows * beam_size`` rows, each input's
    repeated ``beam_size`` times in place (row n -> rows n*B .. n*B+B-1)."""
    B = beam_size
    limits = torch.as_tensor(max_length).expand(rows)
    limit = int(limits.max())
    scores = torch.full((rows, B), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis per input at the start: the B copies would otherwise tie
    previous = torch.full((rows * B,), bos, dtype=torch.long)
    history = torch.zeros(rows, B, 0, dtype=torch.long)  # (N, B, t) tokens
    where = torch.zeros(rows, B, 0, dtype=torch.long)  # (N, B, t) attended source positions
    best_score = torch.full((rows,), float("-inf"))
    best: list[tuple[list[int], list[int]]] = [([], []) for _ in range(rows)]
    offsets = (torch.arange(rows) * B)[:, None]  # (N, 1)
    for t in range(limit):
        logits, carry, attention = step(previous, carry)
        log_probs = torch.log_softmax(logits.float(), dim=-1)  # (N*B, V)
        V = log_probs.shape[-1]
        total = (scores[:, :, None] + log_probs.view(rows, B, V)).view(rows, B * V)  # (N, B*V)
        # 2B candidates: at most B of them end here, so B live ones always remain
        top_scores, top = total.topk(min(2 * B, B * V), dim=-1)  # (N, 2B)
        beam, token = top // V, top % V
        ends = (token == eos) | (t + 1 >= limits[:, None])
        length = t + 1 - (token == eos).long()  # tokens before EOS
        normalized = top_scores / length.clamp(min=1).float() ** alpha
        positions = _positions(attention, rows * B).view(rows, B)
        for n, k in (ends & torch.isfinite(top_scores) & (normalized > best_score[:, None])).nonzero().tolist():
            if normalized[n, k] > best_score[n]:
                b = int(beam[n, k])
                kept = history[n, b].tolist() + ([] if token[n, k] == eos else [int(token[n, k])])
                spots = where[n, b].tolist() + ([] if token[n, k] == eos else [int(positions[n, b])])
                best_score[n], best[n] = normalized[n, k], (kept, spots)
        live_scores = top_scores.masked_fill(ends, float("-inf"))
        live_scores, order = live_scores.topk(B, dim=-1)  # (N, B)
        beam, token = beam.gather(1, order), token.gather(1, order)
        # A live hypothesis can only lose log-probability; with alpha <= 1 its normalized score is at best
        # its score / limit^alpha, so once that is below the best finished one, the input is settled.
        reachable = live_scores.max(dim=1).values / float(limit) ** alpha
        if bool((best_score >= reachable).all()):
            break
        scores = live_scores
        history = torch.cat([history.gather(1, beam[:, :, None].expand(-1, -1, t)), token[:, :, None]], dim=2)
        where = torch.cat(
            [where.gather(1, beam[:, :, None].expand(-1, -1, t)), positions.gather(1, beam)[:, :, None]], dim=2
        )
        rows_kept = (offsets + beam).view(-1)
        carry = select(carry, rows_kept)
        previous = token.reshape(-1)
    return Decoded([tokens for tokens, _ in best], [spots for _, spots in best])


def sample(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(M,) token ids drawn from ``logits`` (M, V) (see the module docstring); -inf logits are never drawn."""
    scaled = logits.float() / temperature  # (M, V)
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = scaled.topk(top_k, dim=-1).values[:, -1:]  # (M, 1): the k-th largest logit
        scaled = scaled.masked_fill(scaled < kth, -torch.inf)
    if top_p is not None and top_p < 1.0:
        ordered, order = scaled.sort(dim=-1, descending=True)
        probabilities = ordered.softmax(dim=-1)
        before = probabilities.cumsum(dim=-1) - probabilities  # (M, V): the mass of the more likely tokens
        ordered = ordered.masked_fill(before >= top_p, -torch.inf)  # the most likely token always stays
        scaled = torch.full_like(scaled, -torch.inf).scatter(-1, order, ordered)
    return torch.multinomial(scaled.softmax(dim=-1), 1, generator=generator)[:, 0]
