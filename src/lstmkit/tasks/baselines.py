"""What a user would pick instead of an LSTM, as scikit-learn estimators taking the same ``X`` and ``y``.

- ``majority``: always the most frequent training class (``DummyClassifier``).
- ``tfidf_logreg`` (texts): TF-IDF of word unigrams and bigrams, then logistic regression.
- ``nearest_neighbour`` (numeric sequences): 1-NN with the Euclidean distance between series resampled
  to one length (the training median) and standardized per channel with training statistics.
"""

from __future__ import annotations

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
