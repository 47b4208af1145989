"""What a user would pick instead of an LSTM, as scikit-learn estimators taking the same ``X`` and ``y``.

- ``majority``: always the most frequent training class (``DummyClassifier``).
- ``tfidf_logreg`` (texts): TF-IDF of word unigrams and bigrams, then logistic regression.
- ``nearest_neighbour`` (numeric sequences): 1-NN with the Euclidean distance between series resampled
  to one length (the training median) and standardized per channel with training statistics.
- Generation: ``CharNGram`` (a character n-gram language model) and ``key_frequency_nll`` (each piano key on
  with its training frequency, independently of everything else).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from lstmkit.data.scaling import ChannelStandardizer
from lstmkit.data.sequences import as_sequences, resample


class ResampledSeries(BaseEstimator, TransformerMixin):
    """Sequences (list of (T_i, C) or (N, T, C)) -> (N, length * C) rows: standardized, resampled, flattened."""

    def fit(self, X, y=None):
        sequences = as_sequences(X)
        self.length_ = int(np.median([len(s) for s in sequences]))
        self.standardizer_ = ChannelStandardizer.fit(sequences)
        return self

    def transform(self, X) -> np.ndarray:
        resampled = resample(self.standardizer_.transform(as_sequences(X)), self.length_)
        return resampled.reshape(len(resampled), -1)


def baselines(input_kind: str, seed: int = 0) -> dict[str, BaseEstimator]:
    """The baselines for ``input_kind`` ("text" or "numeric"), unfitted, by name."""
    found: dict[str, BaseEstimator] = {"majority": DummyClassifier(strategy="most_frequent")}
    if input_kind == "text":
        found["tfidf_logreg"] = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(C=10.0, max_iter=2000)
        )
    else:
        found["nearest_neighbour"] = make_pipeline(ResampledSeries(), KNeighborsClassifier(n_neighbors=1))
    return found


def most_frequent_tag(train_tokens, train_tags, tokens) -> list[list[str]]:
    """Tagging baseline: each token gets the tag it carried most often in training (ties: the first seen); tokens
    never seen in training get O. (The entities of WNUT17's test set mostly never occur in training.)"""
    from collections import Counter, defaultdict

    counts: dict[str, Counter] = defaultdict(Counter)
    for words, tags in zip(train_tokens, train_tags, strict=True):
        for word, tag in zip(words, tags, strict=True):
            counts[word][tag] += 1
    best = {word: tally.most_common(1)[0][0] for word, tally in counts.items()}
    return [[best.get(word, "O") for word in words] for words in tokens]


def all_outside(tokens) -> list[list[str]]:
    """Tagging baseline: O for every token (entity F1 0, per-step accuracy the share of O)."""
    return [["O"] * len(words) for words in tokens]


def rolling_zscore(values, window: int) -> np.ndarray:
    """Anomaly baseline: |x_t - mean| / std of the ``window`` steps before t (a std of 0 counts as 1); 0 for the
    first ``window`` steps."""
    x = np.asarray(values, dtype=float)
    scores = np.zeros(len(x))
    if len(x) <= window:
        return scores
    past = np.lib.stride_tricks.sliding_window_view(x[:-1], window)  # row k: x[k .. k + window - 1]
    mean, std = past.mean(axis=1), past.std(axis=1)
    scores[window:] = np.abs(x[window:] - mean) / np.where(std > 0, std, 1.0)
    return scores


def seasonal_naive_residual(values, period: int) -> np.ndarray:
    """Anomaly baseline: |x_t - x_{t - period}|, the error of the seasonal-naive forecast; 0 for the first season."""
    x = np.asarray(values, dtype=float)
    scores = np.zeros(len(x))
    scores[period:] = np.abs(x[period:] - x[:-period])
    return scores


def isolation_forest_scores(values, window: int, seed: int = 0) -> np.ndarray:
    """Anomaly baseline: scikit-learn's IsolationForest on the sliding windows of ``window`` steps (each window
    standardized by the series' mean and std), the window's anomaly score (-score_samples) given to its last
    step; the first window - 1 steps get the lowest score."""
    from sklearn.ensemble import IsolationForest

    x = np.asarray(values, dtype=float)
    z = (x - x.mean()) / (x.std() or 1.0)
    windows = np.lib.stride_tricks.sliding_window_view(z, window)
    forest = IsolationForest(random_state=seed).fit(windows)
    window_scores = -forest.score_samples(windows)
    return np.concatenate([np.full(window - 1, window_scores.min()), window_scores])


class CharNGram:
    """A character n-gram language model with interpolated absolute discounting (Ney, Essen & Kneser 1994):

        P_n(c | h) = max(count(h c) - d, 0) / count(h) + d * distinct(h) / count(h) * P_(n-1)(c | h'),

    h the previous n - 1 characters, h' the previous n - 2, distinct(h) the number of different characters seen
    after h, P_0 uniform over the training characters; an unseen context falls back to P_(n-1). A proper
    distribution at every order, so its loss compares with a neural model's (characters never seen in training
    are skipped, and counted in ``unseen``)."""

    def __init__(self, order: int = 5, discount: float = 0.75):
        self.order, self.discount = order, discount

    def fit(self, text: str) -> CharNGram:
        self.alphabet_ = sorted(set(text))
        self.counts_ = [defaultdict(Counter) for _ in range(self.order)]  # [n-1][context] -> next char counts
        for n in range(self.order):
            for k in range(n, len(text)):
                self.counts_[n][text[k - n : k]][text[k]] += 1
        self.totals_ = [{h: (sum(c.values()), len(c)) for h, c in counts.items()} for counts in self.counts_]
        return self

    def probability(self, context: str, character: str) -> float:
        p = 1.0 / len(self.alphabet_)
        for n in range(self.order):
            h = context[len(context) - n :] if n else ""
            if len(h) < n or h not in self.totals_[n]:
                break
            total, distinct = self.totals_[n][h]
            seen = self.counts_[n][h].get(character, 0)
            p = max(seen - self.discount, 0.0) / total + self.discount * distinct / total * p
        return p

    def nats_per_char(self, text: str) -> float:
        """Mean -log P(c_k | the characters before it) over ``text[1:]`` (seen characters only)."""
        known = set(self.alphabet_)
        losses = [
            -math.log(self.probability(text[max(0, k - self.order + 1) : k], text[k]))
            for k in range(1, len(text))
            if text[k] in known
        ]
        self.unseen_ = len(text) - 1 - len(losses)
        return float(np.mean(losses))


def key_frequency_nll(train_rolls, rolls) -> float:
    """NLL per step of ``rolls`` when each of the 88 keys sounds with its frequency over the training steps,
    independently (summed over the keys, averaged over the steps after each roll's first, as ``MusicGenerator``
    scores); frequencies clipped to [1e-4, 1 - 1e-4] so an unseen key costs a finite amount."""
    frequency = np.clip(np.concatenate([r[1:] for r in train_rolls]).mean(axis=0), 1e-4, 1 - 1e-4)  # (88,)
    frames = np.concatenate([r[1:] for r in rolls]).astype(float)  # (steps, 88)
    nll = -(frames * np.log(frequency) + (1 - frames) * np.log(1 - frequency)).sum(axis=1)
    return float(nll.mean())
