"""Task-level estimators on one scikit-learn-style spine (``tasks.base``), built on lstmkit.nn and lstmkit.training."""

from lstmkit.tasks.backtest import BacktestResult, backtest
from lstmkit.tasks.base import SequenceEstimator, load
from lstmkit.tasks.classify import SequenceClassifier
from lstmkit.tasks.detect import AnomalyDetector
from lstmkit.tasks.forecaster import Forecaster
from lstmkit.tasks.generate import TextGenerator
from lstmkit.tasks.music import MusicGenerator
from lstmkit.tasks.tag import SequenceTagger
from lstmkit.tasks.translate import Seq2Seq
from lstmkit.tasks.tuning import TuneResult, tune

__all__ = [
    "AnomalyDetector",
    "BacktestResult",
    "Forecaster",
    "MusicGenerator",
    "SequenceClassifier",
    "SequenceEstimator",
    "Seq2Seq",
    "SequenceTagger",
    "TextGenerator",
    "TuneResult",
    "backtest",
    "load",
    "tune",
]
