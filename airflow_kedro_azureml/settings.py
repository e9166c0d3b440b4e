"""The Airflow-side settings of this provider: poll interval, deferrable default, timeouts.

Each is checked where it is given (a DAG file, the Airflow config), with an error
that names the argument or the setting.
"""

from __future__ import annotations

from datetime import timedelta

from airflow_kedro_azureml import CONFIG_SECTION, DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_TIMEOUT
from airflow_kedro_azureml.errors import ConfigError

# The longest pause between two looks at a job while Azure ML answers with transient errors.
MAX_POLL_BACKOFF = 300.0
# The longest wait for a connection to Azure ML to open (the request timeout, if shorter).
CONNECT_TIMEOUT = 20.0


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable``."""
    from airflow.configuration import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


def checked_timeout(value: timedelta | float | None) -> timedelta | None:
    """``value`` as a timedelta (None: no limit); a clear error if it is not above 0."""
    if value is None:
        return None
    span = value if isinstance(value, timedelta) else timedelta(seconds=float(value))
    if span.total_seconds() <= 0:
        raise ValueError(f"timeout must be above 0 seconds, got {value!r}")
    return span


def checked_poll_interval(value: float | None, argument: str = "poll_interval") -> float:
    """``value``, or the ``[kedro_azureml] poll_interval`` setting; a clear error if not > 0."""
    from airflow.configuration import conf

    if value is None:
        value = conf.getfloat(CONFIG_SECTION, "poll_interval", fallback=DEFAULT_POLL_INTERVAL)
        where = f"the Airflow setting [{CONFIG_SECTION}] poll_interval"
    else:
        where = argument
    if not value > 0:
        raise ValueError(f"{where} must be a number of seconds above 0, got {value!r}")
    return float(value)


def request_timeout() -> float:
    """The ``[kedro_azureml] request_timeout`` setting: seconds to wait for one answer.

    A request that gets no answer in that time is sent again (the SDK retries reads
    three times) or fails as transient, so no call to Azure ML waits forever.
    """
    from airflow.configuration import conf

    value = conf.getfloat(CONFIG_SECTION, "request_timeout", fallback=DEFAULT_REQUEST_TIMEOUT)
    if not value > 0:
        raise ConfigError(
            f"the Airflow setting [{CONFIG_SECTION}] request_timeout must be a number of "
            f"seconds above 0, got {value!r}"
        )
    return value


def request_timeouts() -> dict[str, float]:
    """azure-core's ``connection_timeout`` and ``read_timeout`` for every Azure client."""
    read = request_timeout()
    return {"connection_timeout": min(CONNECT_TIMEOUT, read), "read_timeout": read}
