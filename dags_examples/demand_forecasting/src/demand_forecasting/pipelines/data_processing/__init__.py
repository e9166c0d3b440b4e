"""Raw monthly sell-in history -> model input table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
