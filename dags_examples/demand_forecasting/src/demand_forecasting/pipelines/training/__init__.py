"""Model input table -> trained demand model and its validation metrics."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
