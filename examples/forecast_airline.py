"""Forecast the airline series with lstmkit's Forecaster, backtest it, and save a picture.

python examples/forecast_airline.py [--quick] [--out forecast.png]
"""

from __future__ import annotations

import argparse

import torch

from lstmkit.data import load_dataset
from lstmkit.tasks import Forecaster, backtest
from lstmkit.viz import plot_forecast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, for a smoke test")
    parser.add_argument("--out", default="forecast.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    series = load_dataset("airline")
    epochs = 10 if args.quick else 300
    result = backtest(Forecaster(horizon=12, epochs=epochs), series, folds=2)
    print(result.summary().round(3).to_string())
    forecaster = Forecaster(horizon=12, epochs=epochs).fit(series)
    future = forecaster.predict(24)  # 12 steps direct, then 12 rolled out on the medians
    plot_forecast(series[-48:], future, title="Airline passengers: 24-month LSTM forecast").savefig(args.out, dpi=110)
    print(
        f"forecast for {future.index[0]:%Y-%m}: {future['forecast'].iloc[0]:.0f} "
        f"[{future['lower'].iloc[0]:.0f}, {future['upper'].iloc[0]:.0f}]; picture in {args.out}"
    )


if __name__ == "__main__":
    main()
