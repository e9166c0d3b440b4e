"""Project settings: Kedro defaults (OmegaConfigLoader, no custom hooks).

See https://docs.kedro.org/en/stable/configure/configuration_basics/ for every setting.
"""

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
