"""Pictures of LSTMs and their forecasts: matplotlib only; arrays, Series or GateTraces in, Figures out.

Never calls ``plt.show()``: callers save or display the returned Figure. Uses matplotlib's object API,
so it works under any backend (Agg on servers).
"""

from lstmkit.viz.anomaly import plot_anomalies
from lstmkit.viz.classify import plot_attention, plot_confusion_matrix
from lstmkit.viz.forecast import plot_backtest, plot_forecast, plot_training_curves
from lstmkit.viz.gates import (
    plot_cell_states,
    plot_comparison,
    plot_gates,
    plot_gradient_flow,
    plot_hidden_states,
    plot_saturation,
)
from lstmkit.viz.generate import plot_piano_roll, plot_text_activation, text_activation_html
from lstmkit.viz.translate import plot_alignment

__all__ = [
    "plot_alignment",
    "plot_anomalies",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_backtest",
    "plot_cell_states",
    "plot_comparison",
    "plot_forecast",
    "plot_gates",
    "plot_gradient_flow",
    "plot_hidden_states",
    "plot_piano_roll",
    "plot_saturation",
    "plot_text_activation",
    "plot_training_curves",
    "text_activation_html",
]
