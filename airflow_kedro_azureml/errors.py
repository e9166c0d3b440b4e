"""Exception classes: each names what is wrong and what to change."""

from __future__ import annotations


class KedroAzureMLError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(KedroAzureMLError):
    """``azureml.yml`` is missing, unreadable or invalid."""


class ProjectError(KedroAzureMLError):
    """The project path is not a loadable Kedro project."""


class PipelineSelectionError(KedroAzureMLError):
    """The pipeline name or filters select nothing runnable."""


class CompileError(KedroAzureMLError):
    """The Kedro pipeline cannot be turned into an Azure ML pipeline job."""


class ParamsError(KedroAzureMLError):
    """Runtime params cannot be passed to the steps (e.g. not JSON-serialisable)."""


class ConnectionSettingsError(KedroAzureMLError, ValueError):
    """The ``azure_ml`` Airflow connection is missing a field or has a wrong value."""


class StepRunError(KedroAzureMLError):
    """A compiled step cannot run as compiled (e.g. the job was compiled by another version)."""


class AzureMLRequestError(KedroAzureMLError):
    """Azure ML refused a request, and sending it again will not help (e.g. 400, 403, 404).

    Also raised when the SDK refuses a job before sending it (a missing environment,
    an invalid input): then nothing was submitted.
    """

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransientAzureMLError(KedroAzureMLError):
    """A request to Azure ML failed in a way that may pass: 429, a 5xx, a dropped connection.

    ``answer_lost`` is True when the request may have reached Azure ML and taken
    effect although no answer came back; whoever repeats it must look first.
    """

    def __init__(
        self, message: str, status_code: int | None = None, answer_lost: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.answer_lost = answer_lost


class ScheduleError(KedroAzureMLError, ValueError):
    """A native Azure ML schedule is invalid (cron, recurrence, time zone, start or end)."""
