"""Task-level estimators (scikit-learn style) built on lstmkit.nn and lstmkit.training."""

from lstmkit.tasks.backtest import BacktestResult, backtest
from lstmkit.tasks.forecaster import Forecaster

__all__ = ["BacktestResult", "Forecaster", "backtest"]
