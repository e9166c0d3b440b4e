"""``training``: ``model_input_table`` -> ``model`` and ``metrics``."""

from kedro.pipeline import Pipeline, node

from .nodes import evaluate_model, fit_model, select_training_window, split_train_validation


def create_pipeline(**kwargs) -> Pipeline:
    """Select the window, fit a candidate on its first months, score it on the last ones,
    and fit the delivered model on the whole window.

    ``fit_candidate_model`` and ``fit_final_model`` are independent and can run in parallel.

    Free inputs: ``model_input_table``, ``params:training.window_end``,
    ``params:training.window_months``, ``params:training.validation_months``,
    ``params:training.model``. Free outputs: ``model``, ``metrics``.
    """
    return Pipeline(
        [
            node(
                select_training_window,
                inputs=[
                    "model_input_table",
                    "params:training.window_end",
                    "params:training.window_months",
                ],
                outputs="training_window",
                name="select_training_window",
            ),
            node(
                split_train_validation,
                inputs=["training_window", "params:training.validation_months"],
                outputs=["train_set", "validation_set"],
                name="split_train_validation",
            ),
            node(
                fit_model,
                inputs=["train_set", "params:training.model"],
                outputs="candidate_model",
                name="fit_candidate_model",
            ),
            node(
                evaluate_model,
                inputs=["candidate_model", "train_set", "validation_set"],
                outputs="metrics",
                name="evaluate_model",
            ),
            node(
                fit_model,
                inputs=["training_window", "params:training.model"],
                outputs="model",
                name="fit_final_model",
            ),
        ]
    )
