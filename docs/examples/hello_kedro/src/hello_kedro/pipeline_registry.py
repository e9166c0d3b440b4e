"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from hello_kedro.nodes import make_numbers, summarise


def register_pipelines() -> dict[str, Pipeline]:
    """One pipeline of two nodes; ``numbers`` (no catalog entry) travels between them."""
    pipeline = Pipeline(
        [
            node(make_numbers, "params:count", "numbers", name="make_numbers"),
            node(summarise, ["numbers", "params:factor"], "report", name="summarise"),
        ]
    )
    return {"__default__": pipeline, "hello": pipeline}
