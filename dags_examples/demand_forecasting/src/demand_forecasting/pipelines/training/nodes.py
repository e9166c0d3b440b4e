"""Nodes that select the training window, fit the demand model and evaluate it."""

from __future__ import annotations

import datetime as dt
import logging
import operator
import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from demand_forecasting.pipelines.data_processing.nodes import feature_columns

logger = logging.getLogger(__name__)

#: OpenMP threads used to fit and predict. The data is small: one thread takes about a second,
#: while several threads competing with other steps on a busy machine can take far longer.
N_THREADS = 1

#: "YYYY-MM", optionally followed by a day and a time ("2025-06-30", "2025-06-30T12:00").
_ISO_MONTH = re.compile(r"^\d{4}-\d{2}(-\d{2}([T ].*)?)?$")


def parse_month(value: Any, name: str) -> pd.Period:
    """Parse a month parameter (``"YYYY-MM"``, an ISO date or a date object) to a period.

    Raises:
        ValueError: naming the parameter ``name`` when the value is not a month.
    """
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    candidate = value.strip() if isinstance(value, str) else value
    if isinstance(candidate, str) and not _ISO_MONTH.match(candidate):
        candidate = None
    if isinstance(candidate, str | dt.date):
        try:
            month = pd.Period(candidate, freq="M")
        except (TypeError, ValueError):
            month = None
        if month is not None and not pd.isna(month):
            return month
    raise ValueError(f"Parameter '{name}' must be a month such as '2025-06', got {value!r}.")


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer.

    Raises:
        ValueError: naming the parameter ``name`` otherwise.
    """
    if not isinstance(value, bool):
        try:
            number = operator.index(value)
        except TypeError:
            number = 0
        if number >= 1:
            return number
    raise ValueError(f"Parameter '{name}' must be a positive integer, got {value!r}.")


def _month_range(frame: pd.DataFrame) -> str:
    """``first..last`` months of a table, for messages."""
    months = pd.to_datetime(frame["month"])
    return f"{months.min():%Y-%m}..{months.max():%Y-%m}"


def select_training_window(
    model_input_table: pd.DataFrame, window_end: Any, window_months: int
) -> pd.DataFrame:
    """Keep the ``window_months`` months of the table that end at ``window_end`` (included).

    Args:
        model_input_table: Output of the ``data_processing`` pipeline.
        window_end: Last month of the window (parameter ``training.window_end``, "YYYY-MM").
        window_months: Number of months in the window (parameter ``training.window_months``).

    Returns:
        The rows of the window. When the window reaches past the data only the covered part
        is kept (a warning is logged).

    Raises:
        ValueError: if a parameter is invalid or the window holds no data.
    """
    end = parse_month(window_end, "training.window_end")
    window_months = positive_int(window_months, "training.window_months")
    start = end - (window_months - 1)
    months = pd.to_datetime(model_input_table["month"]).dt.to_period("M")
    window = model_input_table.loc[(months >= start) & (months <= end)]
    window = window.loc[window["units"].notna()].reset_index(drop=True)
    if window.empty:
        covered = _month_range(model_input_table) if len(model_input_table) else "nothing"
        raise ValueError(
            f"No sell-in data in the training window {start}..{end} "
            f"(training.window_end={str(window_end)!r}, training.window_months={window_months}); "
            f"the model input table covers {covered}."
        )
    if months.max() < end or months.min() > start:
        logger.warning(
            "Training window %s..%s is only partly covered by the data; training on %s.",
            start,
            end,
            _month_range(window),
        )
    return window


def split_train_validation(
    training_window: pd.DataFrame, validation_months: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the window by time: its last ``validation_months`` months are the validation set.

    Args:
        training_window: Output of :func:`select_training_window`.
        validation_months: Months held out (parameter ``training.validation_months``); reduced
            so that at least one month is left for training.

    Returns:
        ``(train_set, validation_set)``.

    Raises:
        ValueError: if the window has fewer than two months.
    """
    validation_months = positive_int(validation_months, "training.validation_months")
    months = pd.to_datetime(training_window["month"])
    distinct = np.sort(months.unique())
    if len(distinct) < 2:
        raise ValueError(
            f"The training window {_month_range(training_window)} has fewer than two months; "
            "increase 'training.window_months' or move 'training.window_end'."
        )
    held_out = min(validation_months, len(distinct) - 1)
    if held_out < validation_months:
        logger.warning(
            "Window too short: validating on %d month(s) instead of %d.",
            held_out,
            validation_months,
        )
    first_validation_month = distinct[-held_out]
    is_validation = months >= first_validation_month
    train_set = training_window.loc[~is_validation].reset_index(drop=True)
    validation_set = training_window.loc[is_validation].reset_index(drop=True)
    return train_set, validation_set


def fit_model(
    training_data: pd.DataFrame, model_params: dict[str, Any]
) -> TransformedTargetRegressor:
    """Fit a gradient-boosting regressor of ``units`` on the feature columns.

    The target is modelled on the ``log1p`` scale so small and large series weigh alike.

    Args:
        training_data: Rows of the model input table to learn from.
        model_params: Keyword arguments of ``HistGradientBoostingRegressor``
            (parameter ``training.model``).

    Returns:
        The fitted model; ``model.feature_names_in_`` lists the features it expects.
    """
    features = feature_columns(training_data)
    model = TransformedTargetRegressor(
        regressor=HistGradientBoostingRegressor(**model_params),
        func=np.log1p,
        inverse_func=np.expm1,
        check_inverse=False,
    )
    with threadpool_limits(limits=N_THREADS, user_api="openmp"):
        model.fit(training_data[features], training_data["units"].astype(float))
    return model


def predict_units(model: TransformedTargetRegressor, frame: pd.DataFrame) -> np.ndarray:
    """Predict non-negative units for the rows of ``frame`` with the model's own features."""
    expected = list(model.feature_names_in_)
    missing = [column for column in expected if column not in frame.columns]
    if missing:
        raise ValueError(
            f"The model expects the features {missing}, which the table lacks; "
            "the 'features' parameters must be the same as when the model was trained."
        )
    with threadpool_limits(limits=N_THREADS, user_api="openmp"):
        predicted = model.predict(frame[expected])
    return np.clip(predicted, 0.0, None)


def evaluate_model(
    candidate_model: TransformedTargetRegressor,
    train_set: pd.DataFrame,
    validation_set: pd.DataFrame,
) -> dict[str, Any]:
    """Score the candidate model on the validation months (one month ahead, actual lags).

    Args:
        candidate_model: Model fitted on ``train_set`` only.
        train_set: Rows the candidate model was fitted on (for the reported window).
        validation_set: Held-out months.

    Returns:
        A JSON-ready dict: ``mape`` (mean absolute percentage error over rows with non-zero
        actuals, as a fraction), ``wape`` (sum of absolute errors / sum of actuals),
        ``mae``, ``bias`` (sum of errors / sum of actuals), row counts and the months used.
    """
    actual = validation_set["units"].to_numpy(dtype=float)
    predicted = predict_units(candidate_model, validation_set)
    error = predicted - actual
    nonzero = actual > 0
    total = float(actual.sum())
    mape = float(np.mean(np.abs(error[nonzero]) / actual[nonzero])) if nonzero.any() else None
    train_months = pd.to_datetime(train_set["month"])
    validation_months = pd.to_datetime(validation_set["month"])
    metrics = {
        "mape": None if mape is None else round(mape, 6),
        "wape": round(float(np.abs(error).sum()) / total, 6) if total else None,
        "mae": round(float(np.abs(error).mean()), 6),
        "bias": round(float(error.sum()) / total, 6) if total else None,
        "n_rows": len(train_set) + len(validation_set),
        "n_rows_train": len(train_set),
        "n_rows_validation": len(validation_set),
        "n_series": int(validation_set.groupby(["country", "sku"]).ngroups),
        "window_start": f"{train_months.min():%Y-%m}",
        "window_end": f"{validation_months.max():%Y-%m}",
        "validation_start": f"{validation_months.min():%Y-%m}",
        "model": type(candidate_model.regressor_).__name__,
    }
    logger.info("Validation metrics: MAPE=%s WAPE=%s", metrics["mape"], metrics["wape"])
    return metrics
