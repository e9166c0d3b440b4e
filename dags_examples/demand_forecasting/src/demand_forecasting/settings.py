"""Project settings: Kedro defaults (OmegaConfigLoader, no custom hooks), one resolver.

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for every setting.
"""

from demand_forecasting.run_dates import month_before

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # ${month_before:...} in parameters.yml: the training window ends the month before the run.
    "custom_resolvers": {"month_before": month_before},
}
