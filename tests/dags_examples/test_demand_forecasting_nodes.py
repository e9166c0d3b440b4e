"""Tests of the node functions of the ``demand_forecasting`` example Kedro project.

The project is not installed: its ``src`` folder is put on ``sys.path`` here, as Kedro does
for ``kedro run``. No Kedro session and no ``airflow_kedro_azureml`` dataset is needed.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dags_examples" / "demand_forecasting"
SHIPPED_CSV = PROJECT_DIR / "data" / "01_raw" / "sell_in_history" / "1" / "sell_in.csv"
if str(PROJECT_DIR / "src") not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR / "src"))

from demand_forecasting.pipeline_registry import register_pipelines  # noqa: E402
from demand_forecasting.pipelines.data_processing.nodes import (  # noqa: E402
    add_demand_features,
    clean_sell_in,
    encode_series,
    feature_columns,
)
from demand_forecasting.pipelines.forecasting.nodes import (  # noqa: E402
    FORECAST_COLUMNS,
    forecast_demand,
    format_forecast,
    prepare_forecast_history,
)
from demand_forecasting.pipelines.training.nodes import (  # noqa: E402
    evaluate_model,
    fit_model,
    parse_month,
    select_training_window,
    split_train_validation,
)

LAGS = [1, 2, 12]
WINDOWS = [3, 6]
MODEL_PARAMS = {"max_iter": 30, "learning_rate": 0.2, "min_samples_leaf": 5, "random_state": 0}


def _raw_history(n_months: int = 30) -> pd.DataFrame:
    """A small clean raw history: 2 countries x 2 SKUs, seasonal with a trend."""
    months = pd.period_range("2023-01", periods=n_months, freq="M")
    rows = []
    for country, scale in (("DE", 2.0), ("FR", 1.0)):
        for sku, base in (("SKU-001", 100.0), ("SKU-002", 40.0)):
            for t, month in enumerate(months):
                units = scale * base * (1 + 0.01 * t) * (1 + 0.2 * np.sin(month.month / 2))
                promo = int(t % 7 == 3)
                rows.append([country, sku, str(month), round(units), 9.99, promo])
    return pd.DataFrame(rows, columns=["country", "sku", "month", "units", "price", "promo"])


def _model_input_table(n_months: int = 30) -> pd.DataFrame:
    return add_demand_features(encode_series(clean_sell_in(_raw_history(n_months))), LAGS, WINDOWS)


# --- data_processing ---------------------------------------------------------------------------


def test_clean_sell_in_repairs_defects():
    raw = pd.DataFrame(
        {
            "country": ["DE", " de ", "DE", "DE", "DE"],
            "sku": ["SKU-001", "sku-001 ", "SKU-001", "SKU-001", "SKU-001"],
            "month": ["2024-01", "2024-01", "2024-02", "2024-04", "2024-05"],
            "units": [10.0, 10.0, -5.0, 40.0, None],
            "price": [2.0, 2.0, 2.0, None, 3.0],
            "promo": [0, 0, 1, 0, 0],
        }
    )
    clean = clean_sell_in(raw)

    assert list(clean.columns) == ["country", "sku", "month", "units", "price", "promo"]
    assert clean["country"].unique().tolist() == ["DE"]
    assert clean["sku"].unique().tolist() == ["SKU-001"]
    assert clean["month"].dt.strftime("%Y-%m").tolist() == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
    ]
    # duplicate summed once (exact duplicate dropped), negative clipped, gap interpolated,
    # blank at the end carried from the last value
    assert clean["units"].tolist() == [10.0, 0.0, 20.0, 40.0, 40.0]
    assert clean["price"].tolist() == [2.0, 2.0, 2.0, 2.0, 3.0]
    assert clean["promo"].tolist() == [0, 1, 0, 0, 0]


def test_clean_sell_in_names_missing_columns():
    with pytest.raises(ValueError, match="units"):
        clean_sell_in(pd.DataFrame({"country": ["DE"], "sku": ["A"], "month": ["2024-01"]}))


def test_encode_series_codes_follow_sorted_values():
    encoded = encode_series(clean_sell_in(_raw_history(3)))
    codes = encoded.drop_duplicates("country").set_index("country")["country_code"]
    assert codes.to_dict() == {"DE": 0, "FR": 1}
    assert set(encoded["sku_code"]) == {0, 1}
    assert encoded["month_of_year"].tolist()[:3] == [1, 2, 3]


def test_demand_features_only_look_back():
    table = _model_input_table()
    series = table[(table["country"] == "FR") & (table["sku"] == "SKU-002")].reset_index()
    units = series["units"]

    assert np.isnan(series.loc[0, "lag_1"])
    assert series.loc[5, "lag_1"] == units[4]
    assert series.loc[14, "lag_12"] == units[2]
    assert series.loc[10, "rolling_mean_3"] == pytest.approx(units[7:10].mean())
    assert series.loc[1, "rolling_mean_6"] == units[0]
    assert series.loc[4, "promo_last_month"] == series.loc[3, "promo"]
    assert set(feature_columns(table)).isdisjoint({"country", "sku", "month", "units"})
    assert {"lag_12", "rolling_mean_6", "country_code", "month_of_year"} <= set(
        feature_columns(table)
    )


def test_demand_features_reject_bad_lags():
    encoded = encode_series(clean_sell_in(_raw_history(3)))
    with pytest.raises(ValueError, match=r"features\.lags"):
        add_demand_features(encoded, [0, 1], WINDOWS)
    with pytest.raises(ValueError, match=r"features\.rolling_windows"):
        add_demand_features(encoded, LAGS, [])


# --- training ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2024-06", " 2024-06 ", "2024-06-30", dt.date(2024, 6, 1)])
def test_parse_month_accepts_months_and_dates(value):
    assert parse_month(value, "training.window_end") == pd.Period("2024-06", freq="M")


@pytest.mark.parametrize("value", [None, 202406, "June", "", "2024-13", "06/2024"])
def test_parse_month_names_the_parameter(value):
    with pytest.raises(ValueError, match=r"training\.window_end") as raised:
        parse_month(value, "training.window_end")
    assert repr(value) in str(raised.value)


def test_select_training_window_keeps_the_window():
    window = select_training_window(_model_input_table(), "2024-06", 12)
    months = window["month"].dt.strftime("%Y-%m")
    assert months.min() == "2023-07"
    assert months.max() == "2024-06"
    assert len(window) == 12 * 4


def test_select_training_window_clips_to_the_data():
    window = select_training_window(_model_input_table(), "2030-01", 120)
    assert len(window) == 30 * 4


def test_select_training_window_without_data_raises():
    with pytest.raises(ValueError, match=r"training\.window_end='2020-01'"):
        select_training_window(_model_input_table(), "2020-01", 6)
    with pytest.raises(ValueError, match=r"training\.window_months"):
        select_training_window(_model_input_table(), "2024-06", 0)


def test_split_train_validation_holds_out_the_last_months():
    window = select_training_window(_model_input_table(), "2024-06", 12)
    train, validation = split_train_validation(window, 3)
    assert train["month"].max() < validation["month"].min()
    assert validation["month"].dt.strftime("%Y-%m").unique().tolist() == [
        "2024-04",
        "2024-05",
        "2024-06",
    ]
    assert len(train) + len(validation) == len(window)


def test_split_train_validation_short_windows():
    two_months = select_training_window(_model_input_table(), "2024-06", 2)
    train, validation = split_train_validation(two_months, 3)
    assert train["month"].nunique() == 1
    assert validation["month"].nunique() == 1
    one_month = select_training_window(_model_input_table(), "2024-06", 1)
    with pytest.raises(ValueError, match=r"training\.window_months"):
        split_train_validation(one_month, 3)


def test_fit_and_evaluate_model():
    window = select_training_window(_model_input_table(), "2025-06", 24)
    train, validation = split_train_validation(window, 3)
    model = fit_model(train, MODEL_PARAMS)
    metrics = evaluate_model(model, train, validation)

    assert list(model.feature_names_in_) == feature_columns(train)
    assert metrics["n_rows_train"] == len(train)
    assert metrics["n_rows_validation"] == len(validation) == 12
    assert metrics["n_rows"] == len(window)
    assert metrics["n_series"] == 4
    assert metrics["window_start"] == "2023-07"
    assert metrics["window_end"] == "2025-06"
    assert metrics["validation_start"] == "2025-04"
    assert 0 <= metrics["wape"] < 0.5
    assert 0 <= metrics["mape"] < 0.5
    assert all(isinstance(value, int | float | str) for value in metrics.values())


# --- forecasting -------------------------------------------------------------------------------


def test_forecast_covers_every_series_and_month():
    table = _model_input_table()
    model = fit_model(table, MODEL_PARAMS)
    history = prepare_forecast_history(table)
    forecast = format_forecast(forecast_demand(model, history, 4, LAGS, WINDOWS))

    assert list(forecast.columns) == FORECAST_COLUMNS
    assert len(forecast) == 4 * 4
    assert sorted(forecast["month"].unique()) == ["2025-07", "2025-08", "2025-09", "2025-10"]
    assert forecast.groupby(["country", "sku"]).size().tolist() == [4, 4, 4, 4]
    assert (forecast["forecast_units"] >= 0).all()
    de_sku1 = forecast.loc[forecast["sku"] == "SKU-001"].groupby("country")["forecast_units"]
    assert de_sku1.mean()["DE"] > de_sku1.mean()["FR"]


def test_forecast_rejects_bad_horizon_and_mismatched_features():
    table = _model_input_table()
    model = fit_model(table, MODEL_PARAMS)
    history = prepare_forecast_history(table)
    with pytest.raises(ValueError, match=r"forecasting\.horizon_months"):
        forecast_demand(model, history, 0, LAGS, WINDOWS)
    with pytest.raises(ValueError, match="features"):
        forecast_demand(model, history, 1, [1], WINDOWS)


# --- project and shipped data ------------------------------------------------------------------


def test_pipelines_are_registered():
    from kedro.framework.project import configure_project

    configure_project("demand_forecasting")  # find_pipelines() needs the project configured
    pipelines = register_pipelines()
    assert set(pipelines) == {"data_processing", "training", "forecasting", "__default__"}
    default = pipelines["__default__"]
    assert default.inputs() == {
        "sell_in_history",
        "params:features.lags",
        "params:features.rolling_windows",
        "params:training.window_end",
        "params:training.window_months",
        "params:training.validation_months",
        "params:training.model",
        "params:forecasting.horizon_months",
    }
    assert default.outputs() == {"metrics", "forecast"}  # model is consumed by forecasting
    assert pipelines["training"].outputs() == {"model", "metrics"}
    assert {"model", "model_input_table"} <= pipelines["forecasting"].inputs()


def test_shipped_data_is_reproducible(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_sell_in_data", PROJECT_DIR / "scripts" / "make_sell_in_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "sell_in.csv"
    module.make_sell_in_data(output)
    assert output.read_bytes() == SHIPPED_CSV.read_bytes()


def test_shipped_data_runs_through_all_nodes():
    table = add_demand_features(
        encode_series(clean_sell_in(pd.read_csv(SHIPPED_CSV))), [1, 2, 3, 12], [3, 6, 12]
    )
    assert table.groupby(["country", "sku"]).size().unique().tolist() == [48]
    window = select_training_window(table, "2025-06", 24)
    train, validation = split_train_validation(window, 3)
    metrics = evaluate_model(fit_model(train, MODEL_PARAMS), train, validation)
    assert metrics["wape"] < 0.3
    forecast = format_forecast(
        forecast_demand(
            fit_model(window, MODEL_PARAMS),
            prepare_forecast_history(table),
            3,
            [1, 2, 3, 12],
            [3, 6, 12],
        )
    )
    assert len(forecast) == 5 * 20 * 3
    assert forecast["month"].unique().tolist() == ["2026-01", "2026-02", "2026-03"]
