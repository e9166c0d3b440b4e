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
