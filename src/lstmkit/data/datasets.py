"""Embedded datasets: small public series inside the package (sources and licences in embedded/README.md)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from lstmkit.errors import DataError


@dataclass(frozen=True)
class EmbeddedDataset:
    name: str
    file: str
    description: str
    frequency: str  # pandas offset alias of the index
    seasonal_period: int  # 1: no seasonality to exploit by a fixed period


DATASETS = {
    d.name: d
    for d in (
        EmbeddedDataset(
            "airline", "airline.csv", "monthly international airline passengers (thousands), 1949-1960", "MS", 12
        ),
        EmbeddedDataset("sunspots", "sunspots.csv", "yearly mean sunspot numbers, 1700-2008", "YS", 1),
    )
}


def load_dataset(name: str) -> pd.Series:
    """An embedded series with a proper DatetimeIndex (frequency set), named after its quantity."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; embedded datasets are {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    with resources.files("lstmkit.data").joinpath("embedded", dataset.file).open() as handle:
        frame = pd.read_csv(handle)
    time_column, value_column = frame.columns
    index = pd.to_datetime(frame[time_column].astype(str), format="%Y-%m" if dataset.frequency == "MS" else "%Y")
    series = pd.Series(
        frame[value_column].to_numpy(dtype=float),
        index=pd.DatetimeIndex(index, freq=dataset.frequency),
        name=value_column,
    )
    series.index.name = time_column
    return series
