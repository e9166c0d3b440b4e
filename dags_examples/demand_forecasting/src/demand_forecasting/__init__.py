"""Monthly sell-in demand forecasting per country and SKU (example Kedro project)."""

__version__ = "0.1"
