"""Tests for the runner's rewiring of a step's datasets to mounted folders."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kedro.io import DataCatalog, MemoryDataset

from airflow_kedro_azureml.compute.datasets import FolderPickleDataset
from airflow_kedro_azureml.compute.runner import rewire_catalog


def test_rewiring_a_sessions_catalog_logs_no_replacing_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A KedroSession's catalog class is made at run time; its module is "abc".
    session_catalog_class = type("SessionCatalog", (DataCatalog,), {"__module__": "abc"})
    catalog = session_catalog_class(datasets={"features": MemoryDataset()})
    catalog_logger = logging.getLogger("kedro.io.data_catalog")
    level_before = catalog_logger.level
    with caplog.at_level(logging.INFO):
        rewire_catalog(catalog, {"features": str(tmp_path / "features")}, None)
    assert isinstance(catalog.get("features"), FolderPickleDataset)
    assert not [r for r in caplog.records if "Replacing dataset" in r.getMessage()]
    assert any("uses folder" in r.getMessage() for r in caplog.records)
    assert catalog_logger.level == level_before


def test_without_the_quieting_kedro_would_warn(tmp_path: Path, caplog) -> None:
    """The warning the rewiring avoids is real: a plain replacement logs it."""
    catalog = DataCatalog(datasets={"features": MemoryDataset()})
    with caplog.at_level(logging.WARNING):
        catalog["features"] = FolderPickleDataset(str(tmp_path / "features"))
    assert any("Replacing dataset 'features'" in r.getMessage() for r in caplog.records)
