"""Task metrics: point-forecast errors as the M4 competition defines them (and the baselines they are compared
with), classification accuracy and macro F1, translation BLEU and chrF (sacreBLEU)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from lstmkit.errors import DataError, ParameterError


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent: 200/h * sum |y - f| / (|y| + |f|) (terms with y = f = 0 count 0)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.divide(2 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return float(100 * np.mean(terms))


def mase(actual: np.ndarray, forecast: np.ndarray, insample: np.ndarray, period: int = 1) -> float:
    """MAE scaled by the in-sample MAE of the seasonal-naive forecast: mean |y_t - y_{t-m}| over the history."""
    insample = np.asarray(insample, float)
    if len(insample) <= period:
        raise ValueError(f"MASE needs more than {period} in-sample values, got {len(insample)}")
    scale = np.mean(np.abs(insample[period:] - insample[:-period]))
    return float(mae(actual, forecast) / scale) if scale > 0 else float("nan")


def all_metrics(actual, forecast, insample, period: int) -> dict[str, float]:
    return {
        "MAE": mae(actual, forecast),
        "RMSE": rmse(actual, forecast),
        "sMAPE": smape(actual, forecast),
        "MASE": mase(actual, forecast, insample, period),
    }


def naive_forecast(history: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, repeated."""
    return np.full(horizon, float(np.asarray(history)[-1]))


def seasonal_naive_forecast(history: np.ndarray, horizon: int, period: int) -> np.ndarray:
    """The value one season earlier: f_{T+j} = y_{T+j-m*ceil(j/m)} (the naive forecast when m = 1)."""
    history = np.asarray(history, float)
    last_season = history[-period:]
    return np.array([last_season[j % period] for j in range(horizon)])


def classification_scores(actual, predicted) -> dict[str, float]:
    """Accuracy and macro-averaged F1 (every class weighs the same, however rare), as scikit-learn computes them."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(actual, predicted)),
        "macro_f1": float(f1_score(actual, predicted, average="macro", zero_division=0)),
    }


def _prf(correct: int, predicted: int, actual: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(gold, predicted) -> dict:
    """Entity-level precision, recall and F1 over a corpus, as CoNLL's ``conlleval`` computes them.

    ``gold`` and ``predicted``: lists of sentences, each a list of BIO/BIOES tags. A predicted chunk is correct
    when a gold chunk of the same sentence has the same type, first and last token (``lstmkit.data.tags``).
    Returns ``precision``, ``recall``, ``f1`` (0 where undefined, as conlleval prints), the counts, and
    ``per_type``: the same for each type with its ``support`` (gold chunks).
    """
    from lstmkit.data.tags import entities

    if len(gold) != len(predicted) or any(len(g) != len(p) for g, p in zip(gold, predicted, strict=False)):
        raise ValueError("expected gold and predicted tags of the same sentences and lengths")
    gold_chunks, predicted_chunks = set(), set()
    for k, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        gold_chunks |= {(k, *chunk) for chunk in entities(g)}
        predicted_chunks |= {(k, *chunk) for chunk in entities(p)}
    correct = gold_chunks & predicted_chunks
    types = sorted({chunk[1] for chunk in gold_chunks | predicted_chunks})
    per_type = {}
    for kind in types:
        count = [sum(1 for chunk in chunks if chunk[1] == kind) for chunks in (correct, predicted_chunks, gold_chunks)]
        per_type[kind] = _prf(*count) | {"support": count[2]}
    return _prf(len(correct), len(predicted_chunks), len(gold_chunks)) | {
        "correct": len(correct),
        "predicted": len(predicted_chunks),
        "gold": len(gold_chunks),
        "per_type": per_type,
    }


def surface_scores(tokens, gold, predicted) -> dict[str, float]:
    """WNUT17's surface-form precision, recall and F1: over the sets of unique (type, entity text) pairs of the
    corpus, so an entity found once counts once however often it occurs (the shared task's second measure)."""
    from lstmkit.data.tags import entities

    def forms(tags_of):
        return {
            (kind, " ".join(words[first : last + 1]))
            for words, tags in zip(tokens, tags_of, strict=True)
            for kind, first, last in entities(tags)
        }

    gold_forms, predicted_forms = forms(gold), forms(predicted)
    return _prf(len(gold_forms & predicted_forms), len(predicted_forms), len(gold_forms))


def boundaries(labels) -> list[int]:
    """The steps t where a new segment starts (labels[t] != labels[t - 1])."""
    return [t for t in range(1, len(labels)) if labels[t] != labels[t - 1]]


def boundary_scores(gold, predicted, tolerance: int = 2) -> dict[str, float]:
    """Segment-boundary precision, recall and F1 over sequences of per-step labels: a predicted boundary is correct
    when it lies within ``tolerance`` steps of a gold boundary not yet matched (each gold boundary matches at most
    one predicted boundary; matched greedily in order of distance)."""
    correct = found = actual = 0
    for g, p in zip(gold, predicted, strict=True):
        gold_steps, predicted_steps = boundaries(list(g)), boundaries(list(p))
        found, actual = found + len(predicted_steps), actual + len(gold_steps)
        pairs = sorted((abs(a - b), a, b) for a in gold_steps for b in predicted_steps if abs(a - b) <= tolerance)
        used_gold, used_predicted = set(), set()
        for _, a, b in pairs:
            if a not in used_gold and b not in used_predicted:
                used_gold.add(a)
                used_predicted.add(b)
        correct += len(used_gold)
    return _prf(correct, found, actual)


def ranges(labels) -> list[tuple[int, int]]:
    """The runs of 1s in a 0/1 sequence as (first, last) step positions, last inclusive."""
    labels = np.asarray(labels).astype(bool)
    edges = np.diff(np.concatenate([[False], labels, [False]]).astype(np.int8))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def _range_side(targets: list[tuple[int, int]], others: list[tuple[int, int]], alpha: float) -> float:
    """Mean over ``targets`` of alpha * existence + (1 - alpha) * cardinality * overlap (Tatbul et al. 2018, flat
    positional bias, reciprocal cardinality: a range overlapped by k others has its overlap reward divided by k)."""
    if not targets:
        return 0.0
    total = 0.0
    for first, last in targets:
        overlaps = [min(last, b) - max(first, a) + 1 for a, b in others if a <= last and b >= first]
        existence = 1.0 if overlaps else 0.0
        overlap = sum(overlaps) / (last - first + 1) / (len(overlaps) if len(overlaps) > 1 else 1)
        total += alpha * existence + (1 - alpha) * overlap
    return total / len(targets)


def range_scores(actual, predicted, alpha: float = 0.0) -> dict[str, float]:
    """Range-based precision, recall and F1 of 0/1 anomaly labels (Tatbul et al. 2018, NeurIPS): recall rewards
    each real anomaly range for being found (weight ``alpha``) and for how much of it is covered; precision
    rewards each predicted range for how much of it is a real anomaly (existence does not count there). Flat
    positional bias, reciprocal cardinality. Unlike point-adjusted F1, random scores cannot game it."""
    real, found = ranges(actual), ranges(predicted)
    precision, recall = _range_side(found, real, 0.0), _range_side(real, found, alpha)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def anomaly_scores(actual, scores) -> dict[str, float]:
    """Per-step ROC-AUC and PR-AUC (average precision, scikit-learn) of anomaly ``scores`` (higher = more anomalous)
    against 0/1 labels, and ``peak_in_window``: 1 if the highest score falls inside a labelled range (NAB-style:
    would the first alarm have landed in an anomaly window), else 0."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    actual, scores = np.asarray(actual).astype(int), np.asarray(scores, dtype=float)
    return {
        "roc_auc": float(roc_auc_score(actual, scores)),
        "pr_auc": float(average_precision_score(actual, scores)),
        "peak_in_window": float(actual[int(np.argmax(scores))]),
    }


class TranslationScores(NamedTuple):
    """Corpus BLEU and chrF (0-100) as sacreBLEU computes them, with the signatures that say how."""

    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str


def reference_streams(references: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """Per-sentence reference lists -> sacreBLEU's reference streams (stream k holds every sentence's k-th
    reference, None where a sentence has fewer: a variable number of references per sentence)."""
    most = max(len(refs) for refs in references)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(most)]


def sacrebleu_metrics():
    """sacreBLEU's BLEU and CHRF classes, or a ParameterError that says how to install them."""
    try:
        from sacrebleu.metrics import BLEU, CHRF
    except ImportError:
        raise ParameterError('translation scores need sacrebleu: pip install "lstmkit[translate]"') from None
    return BLEU, CHRF


def translation_scores(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], lowercase: bool = True
) -> TranslationScores:
    """Corpus BLEU (13a tokenization, exponential smoothing: sacreBLEU's defaults) and chrF of ``hypotheses``
    against every sentence's references (one list of one or more strings per hypothesis); ``lowercase`` compares
    case-insensitively (the signature says ``case:lc``). Needs sacrebleu (``pip install "lstmkit[translate]"``)."""
    BLEU, CHRF = sacrebleu_metrics()
    if len(hypotheses) != len(references) or not hypotheses:
        raise DataError(
            f"expected one list of references per hypothesis and at least one hypothesis, got {len(hypotheses)} "
            f"hypotheses and {len(references)} reference lists"
        )
    if any(isinstance(refs, str) or not refs for refs in references):
        raise DataError("expected each hypothesis's references as a non-empty list of strings")
    streams = reference_streams(references)
    bleu, chrf = BLEU(lowercase=lowercase), CHRF(lowercase=lowercase)
    bleu_score = bleu.corpus_score(list(hypotheses), streams)
    chrf_score = chrf.corpus_score(list(hypotheses), streams)
    return TranslationScores(
        float(bleu_score.score), float(chrf_score.score), str(bleu.get_signature()), str(chrf.get_signature())
    )
