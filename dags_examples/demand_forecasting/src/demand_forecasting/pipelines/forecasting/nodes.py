"""Nodes that forecast the next months of sell-in per country and SKU."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sklearn.base import RegressorMixin

from demand_forecasting.pipelines.data_processing.nodes import (
    SERIES_KEYS,
    add_calendar_features,
    add_demand_features,
)
from demand_forecasting.pipelines.training.nodes import positive_int, predict_units

HISTORY_COLUMNS = ["country", "sku", "month", "units", "price", "promo"]
FORECAST_COLUMNS = ["country", "sku", "month", "forecast_units"]


def prepare_forecast_history(model_input_table: pd.DataFrame) -> pd.DataFrame:
    """Keep the history needed to forecast: the series observed in the last month.

    Feature columns are dropped; they are rebuilt month by month while forecasting.

    Args:
        model_input_table: Output of the ``data_processing`` pipeline.

    Returns:
        ``country, sku, month, units, price, promo`` plus the ``*_code`` encodings, sorted by
        series and month.
    """
    if model_input_table.empty:
        raise ValueError("model_input_table is empty: there is no history to forecast from.")
    code_columns = [f"{key}_code" for key in SERIES_KEYS]
    history = model_input_table[HISTORY_COLUMNS + code_columns].copy()
    history["month"] = pd.to_datetime(history["month"])
    last_month = history["month"].max()
    active = history.loc[history["month"] == last_month, SERIES_KEYS].drop_duplicates()
    history = history.merge(active, on=SERIES_KEYS, how="inner")
    return history.sort_values([*SERIES_KEYS, "month"], ignore_index=True)


def _next_month_rows(history: pd.DataFrame) -> pd.DataFrame:
    """One row per series for the month after the last one: last known price, no promo."""
    last = history.groupby(SERIES_KEYS, sort=False).tail(1).copy()
    last["month"] = last["month"] + pd.offsets.MonthBegin(1)
    last["units"] = float("nan")
    last["promo"] = 0
    return last


def forecast_demand(
    model: RegressorMixin,
    forecast_history: pd.DataFrame,
    horizon_months: int,
    lags: Sequence[int],
    rolling_windows: Sequence[int],
) -> pd.DataFrame:
    """Forecast ``horizon_months`` months after the history, one month at a time.

    Each forecast month is predicted from features built with the same functions as in
    ``data_processing``; its predictions then feed the lags of the following months. Future
    prices are the last observed price of the series and no promotion is assumed.

    Args:
        model: The trained model (output ``model`` of the ``training`` pipeline).
        forecast_history: Output of :func:`prepare_forecast_history`.
        horizon_months: Months to forecast (parameter ``forecasting.horizon_months``).
        lags: Parameter ``features.lags`` (as used to build the training features).
        rolling_windows: Parameter ``features.rolling_windows``.

    Returns:
        The forecast months with the predicted ``units`` and the features used.
    """
    horizon_months = positive_int(horizon_months, "forecasting.horizon_months")
    frame = forecast_history.copy()
    first_forecast_month = frame["month"].max() + pd.offsets.MonthBegin(1)
    for _ in range(horizon_months):
        frame = pd.concat([frame, _next_month_rows(frame)], ignore_index=True)
        features = add_demand_features(add_calendar_features(frame), lags, rolling_windows)
        target = features["units"].isna()
        features.loc[target, "units"] = predict_units(model, features.loc[target])
        frame = features[frame.columns]
    return features.loc[features["month"] >= first_forecast_month].reset_index(drop=True)


def format_forecast(forecast_frame: pd.DataFrame) -> pd.DataFrame:
    """Shape the forecast for publishing.

    Args:
        forecast_frame: Output of :func:`forecast_demand`.

    Returns:
        Columns ``country, sku, month`` ("YYYY-MM") and ``forecast_units`` (rounded to two
        decimals), sorted by country, SKU and month.
    """
    forecast = pd.DataFrame(
        {
            "country": forecast_frame["country"].astype(str),
            "sku": forecast_frame["sku"].astype(str),
            "month": pd.to_datetime(forecast_frame["month"]).dt.strftime("%Y-%m"),
            "forecast_units": forecast_frame["units"].astype(float).round(2),
        }
    )
    return forecast.sort_values(["country", "sku", "month"], ignore_index=True)[FORECAST_COLUMNS]
