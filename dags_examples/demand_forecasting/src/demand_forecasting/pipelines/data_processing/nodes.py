"""Nodes that turn the raw monthly sell-in history into the model input table.

The helpers :func:`add_calendar_features` and :func:`add_demand_features` are also used by
the ``forecasting`` pipeline, so the features of future months are built exactly like the
training features.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

SERIES_KEYS = ["country", "sku"]
RAW_COLUMNS = ["country", "sku", "month", "units", "price", "promo"]
#: Columns of the model input table that are identifiers or the target, never features.
NON_FEATURE_COLUMNS = frozenset({"country", "sku", "month", "units"})


def _to_month_start(values: pd.Series) -> pd.Series:
    """Parse month labels (``YYYY-MM`` or any ISO date) to first-of-month timestamps."""
    parsed = pd.to_datetime(values.astype(str).str.strip(), format="ISO8601")
    return parsed.dt.to_period("M").dt.to_timestamp()


def _positive_ints(values: Sequence[int], name: str) -> list[int]:
    """Validate a list of window sizes or lags taken from the parameters."""
    result = sorted({int(value) for value in values})
    if not result or result[0] < 1:
        raise ValueError(f"Parameter '{name}' must be a non-empty list of positive integers.")
    return result


def clean_sell_in(sell_in_history: pd.DataFrame) -> pd.DataFrame:
    """Clean the raw sell-in history into one row per country, SKU and month.

    * country and SKU codes are stripped and upper-cased;
    * exact duplicate rows are dropped, remaining duplicates of a key are aggregated
      (units summed, price averaged, promo flag kept if any);
    * negative units (returns booked as sell-in) are set to zero;
    * every series gets all months from its first month to the last month of the data;
      missing or blank units are linearly interpolated within the series, missing prices are
      carried forward (then backward) and missing promo flags are 0.

    Args:
        sell_in_history: Raw data with columns ``country, sku, month, units, price, promo``.

    Returns:
        Columns ``country, sku, month`` (first-of-month timestamp), ``units`` and ``price``
        (float) and ``promo`` (int), sorted by country, SKU and month.
    """
    missing = [column for column in RAW_COLUMNS if column not in sell_in_history.columns]
    if missing:
        raise ValueError(f"sell_in_history is missing the columns {missing}.")

    frame = sell_in_history[RAW_COLUMNS].drop_duplicates().copy()
    for key in SERIES_KEYS:
        frame[key] = frame[key].astype(str).str.strip().str.upper()
    frame["month"] = _to_month_start(frame["month"])
    frame["units"] = pd.to_numeric(frame["units"], errors="coerce").clip(lower=0)
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    frame["promo"] = pd.to_numeric(frame["promo"], errors="coerce").fillna(0)
    frame = frame.drop_duplicates()

    by_key = frame.groupby([*SERIES_KEYS, "month"])
    frame = pd.concat(
        [
            by_key["units"].sum(min_count=1),
            by_key["price"].mean(),
            by_key["promo"].max(),
        ],
        axis=1,
    ).reset_index()

    all_months = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
    first_months = frame.groupby(SERIES_KEYS, as_index=False)["month"].min()
    grid = first_months.rename(columns={"month": "first_month"}).merge(
        pd.DataFrame({"month": all_months}), how="cross"
    )
    grid = grid.loc[grid["month"] >= grid["first_month"], [*SERIES_KEYS, "month"]]
    frame = grid.merge(frame, on=[*SERIES_KEYS, "month"], how="left")
    frame = frame.sort_values([*SERIES_KEYS, "month"], ignore_index=True)

    by_series = frame.groupby(SERIES_KEYS, sort=False)
    frame["units"] = by_series["units"].transform(
        lambda units: units.interpolate(limit_direction="both")
    )
    frame["price"] = by_series["price"].transform(lambda price: price.ffill().bfill())
    frame["units"] = frame["units"].fillna(0.0).astype(float)
    frame["price"] = frame["price"].astype(float)
    frame["promo"] = frame["promo"].fillna(0).astype(int)
    return frame


def encode_series(sell_in_clean: pd.DataFrame) -> pd.DataFrame:
    """Add integer encodings of country and SKU plus the calendar features.

    Codes are the positions of the values in the sorted list of distinct values, so they are
    stable for a given data set and shared by training and forecasting (both read the same
    model input table).

    Args:
        sell_in_clean: Output of :func:`clean_sell_in`.

    Returns:
        The input with ``country_code``, ``sku_code`` and ``month_of_year`` columns.
    """
    frame = sell_in_clean.copy()
    for key in SERIES_KEYS:
        categories = sorted(frame[key].unique())
        frame[f"{key}_code"] = pd.Categorical(frame[key], categories=categories).codes.astype(int)
    return add_calendar_features(frame)


def add_calendar_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with ``month_of_year`` (1-12) computed from ``month``."""
    result = frame.copy()
    result["month_of_year"] = pd.to_datetime(result["month"]).dt.month.astype(int)
    return result


def add_demand_features(
    frame: pd.DataFrame, lags: Sequence[int], rolling_windows: Sequence[int]
) -> pd.DataFrame:
    """Add lagged demand, rolling means and last month's promo flag per series.

    Every feature of month ``m`` only uses months before ``m``; months without enough
    history get ``NaN`` (the regressor handles missing values natively).

    Args:
        frame: One row per series and month, sorted or not, with ``units`` and ``promo``.
        lags: Month lags of ``units`` to add as ``lag_<k>`` (parameter ``features.lags``).
        rolling_windows: Window sizes ``w`` of the means of the ``w`` previous months added as
            ``rolling_mean_<w>`` (parameter ``features.rolling_windows``).

    Returns:
        The input sorted by country, SKU and month with the feature columns added.
    """
    lags = _positive_ints(lags, "features.lags")
    rolling_windows = _positive_ints(rolling_windows, "features.rolling_windows")
    result = frame.sort_values([*SERIES_KEYS, "month"], ignore_index=True)
    by_series = result.groupby(SERIES_KEYS, sort=False)
    for lag in lags:
        result[f"lag_{lag}"] = by_series["units"].shift(lag)
    previous_units = by_series["units"].shift(1)
    series_id = by_series.ngroup()
    for window in rolling_windows:
        rolling = previous_units.groupby(series_id, sort=False).rolling(window, min_periods=1)
        result[f"rolling_mean_{window}"] = rolling.mean().droplevel(0)
    result["promo_last_month"] = by_series["promo"].shift(1)
    return result


def feature_columns(model_input_table: pd.DataFrame) -> list[str]:
    """Names of the feature columns of a model input table, in table order."""
    return [column for column in model_input_table.columns if column not in NON_FEATURE_COLUMNS]
