"""Task metrics: point-forecast errors as the M4 competition defines them (and the baselines they are compared
with), classification accuracy and macro F1."""

from __future__ import annotations

import numpy as np


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
