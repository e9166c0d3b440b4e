"""hello_kedro: the smallest Kedro project the documentation runs on Azure ML."""

__version__ = "0.1.0"
