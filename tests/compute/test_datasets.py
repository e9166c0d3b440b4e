"""Tests for AzureMLPipelineDataset, AzureMLAssetDataset and FolderPickleDataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, Version

from airflow_kedro_azureml.datasets import (
    AzureMLAssetDataset,
    AzureMLPipelineDataset,
    FolderPickleDataset,
)


def test_pipeline_dataset_writes_under_root_dir_locally(tmp_path: Path) -> None:
    dataset = AzureMLPipelineDataset(
        dataset={"type": "json.JSONDataset", "filepath": "table.json"}, root_dir=str(tmp_path / "d")
    )
    dataset.save({"a": 1})
    assert (tmp_path / "d" / "table.json").exists()
    assert dataset.load() == {"a": 1}
    assert dataset.exists()


def test_mounted_copy_uses_the_mounted_folder(tmp_path: Path) -> None:
    dataset = AzureMLPipelineDataset(
        dataset={"type": "json.JSONDataset", "filepath": "table.json"}, root_dir=str(tmp_path / "d")
    )
    mounted = dataset.mounted_at(str(tmp_path / "mount"))
    mounted.save([1])
    assert (tmp_path / "mount" / "table.json").exists()
    assert not (tmp_path / "d").exists()


def test_versioned_pipeline_dataset_from_catalog_uses_save_version(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {
            "model": {
                "type": "airflow_kedro_azureml.datasets.AzureMLPipelineDataset",
                "root_dir": str(tmp_path / "models"),
                "versioned": True,
                "dataset": {"type": "pickle.PickleDataset", "filepath": "model.pkl"},
            }
        },
        save_version="2026-11-10T06.00.00.000Z",
    )
    catalog.save("model", {"weights": [1, 2]})
    assert (tmp_path / "models" / "model.pkl" / "2026-11-10T06.00.00.000Z" / "model.pkl").exists()
    assert catalog.load("model") == {"weights": [1, 2]}


def test_absolute_inner_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="relative to the folder"):
        AzureMLPipelineDataset(dataset={"type": "json.JSONDataset", "filepath": "/abs.json"})


def test_asset_dataset_reads_latest_local_version_numerically(tmp_path: Path) -> None:
    for version, value in (("2", "two"), ("10", "ten"), ("9", "nine")):
        folder = tmp_path / "sales" / version
        folder.mkdir(parents=True)
        (folder / "x.json").write_text(f'"{value}"')
    dataset = AzureMLAssetDataset(
        azureml_dataset="sales",
        dataset={"type": "json.JSONDataset", "filepath": "x.json"},
        root_dir=str(tmp_path),
    )
    assert dataset.local_versions() == ["2", "9", "10"]
    assert dataset.load() == "ten"
    pinned = AzureMLAssetDataset(
        azureml_dataset="sales",
        dataset={"type": "json.JSONDataset", "filepath": "x.json"},
        root_dir=str(tmp_path),
        azureml_version=9,
    )
    assert pinned.load() == "nine"


def test_asset_dataset_save_writes_next_or_run_version(tmp_path: Path) -> None:
    config = {"type": "json.JSONDataset", "filepath": "x.json"}
    AzureMLAssetDataset("out", config, root_dir=str(tmp_path)).save(1)
    AzureMLAssetDataset("out", config, root_dir=str(tmp_path)).save(2)
    AzureMLAssetDataset(
        "out", config, root_dir=str(tmp_path), version=Version(None, "2026-11-10T06.00.00.000Z")
    ).save(3)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "1",
        "2",
        "2026-11-10T06.00.00.000Z",
    ]


def test_asset_dataset_without_local_data_says_where_to_put_it(tmp_path: Path) -> None:
    dataset = AzureMLAssetDataset(
        "sales", {"type": "json.JSONDataset", "filepath": "x.json"}, root_dir=str(tmp_path)
    )
    with pytest.raises(DatasetError, match=r"sales/1/x.json"):
        dataset.load()


def test_asset_name_is_validated() -> None:
    with pytest.raises(DatasetError, match="not a valid Azure ML asset name"):
        AzureMLAssetDataset("bad name!", {"type": "json.JSONDataset", "filepath": "x.json"})


def test_folder_pickle_round_trip_and_missing_data(tmp_path: Path) -> None:
    dataset = FolderPickleDataset(str(tmp_path / "f"))
    with pytest.raises(DatasetError, match="did not write it"):
        dataset.load()
    dataset.save({"x": [1]})
    assert dataset.load() == {"x": [1]}
