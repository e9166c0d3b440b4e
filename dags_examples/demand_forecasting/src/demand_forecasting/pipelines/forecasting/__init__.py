"""Trained model + model input table -> monthly forecast per country and SKU."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
