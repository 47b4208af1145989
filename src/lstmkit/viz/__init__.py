"""Pictures of LSTMs and their forecasts: matplotlib only; arrays, Series or GateTraces in, Figures out.

Never calls ``plt.show()``: callers save or display the returned Figure. Uses matplotlib's object API,
so it works under any backend (Agg on servers).
"""

from lstmkit.viz.forecast import plot_backtest, plot_forecast, plot_training_curves

__all__ = ["plot_backtest", "plot_forecast", "plot_training_curves"]
