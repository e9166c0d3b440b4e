"""``data_processing``: raw sell-in history -> ``model_input_table``."""

from kedro.pipeline import Pipeline, node

from .nodes import add_demand_features, clean_sell_in, encode_series


def create_pipeline(**kwargs) -> Pipeline:
    """Clean the raw history, encode the series and build the demand features.

    Free inputs: ``sell_in_history``, ``params:features.lags``,
    ``params:features.rolling_windows``. Free output: ``model_input_table``.
    """
    return Pipeline(
        [
            node(
                clean_sell_in,
                inputs="sell_in_history",
                outputs="sell_in_clean",
                name="clean_sell_in",
            ),
            node(
                encode_series,
                inputs="sell_in_clean",
                outputs="sell_in_encoded",
                name="encode_series",
            ),
            node(
                add_demand_features,
                inputs=[
                    "sell_in_encoded",
                    "params:features.lags",
                    "params:features.rolling_windows",
                ],
                outputs="model_input_table",
                name="build_model_input_table",
            ),
        ]
    )
