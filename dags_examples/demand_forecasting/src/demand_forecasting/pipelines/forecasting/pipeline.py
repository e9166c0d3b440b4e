"""``forecasting``: ``model`` + ``model_input_table`` -> ``forecast``."""

from kedro.pipeline import Pipeline, node

from .nodes import forecast_demand, format_forecast, prepare_forecast_history


def create_pipeline(**kwargs) -> Pipeline:
    """Forecast the next ``forecasting.horizon_months`` months of every country x SKU.

    Free inputs: ``model``, ``model_input_table``, ``params:forecasting.horizon_months``,
    ``params:features.lags``, ``params:features.rolling_windows``. Free output: ``forecast``.
    """
    return Pipeline(
        [
            node(
                prepare_forecast_history,
                inputs="model_input_table",
                outputs="forecast_history",
                name="prepare_forecast_history",
            ),
            node(
                forecast_demand,
                inputs=[
                    "model",
                    "forecast_history",
                    "params:forecasting.horizon_months",
                    "params:features.lags",
                    "params:features.rolling_windows",
                ],
                outputs="forecast_frame",
                name="forecast_demand",
            ),
            node(
                format_forecast,
                inputs="forecast_frame",
                outputs="forecast",
                name="format_forecast",
            ),
        ]
    )
