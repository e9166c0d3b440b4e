"""Kedro datasets whose files live in Azure ML-managed folders or data assets.

``AzureMLPipelineDataset`` wraps any file-based Kedro dataset and keeps its file
under a folder that the step's Azure ML-managed output (or input) replaces at
run time, so the data can cross from one step to another. Locally, and in plain
``kedro run``, the folder is ``root_dir``.

``AzureMLAssetDataset`` reads or writes a version of an Azure ML data asset.
Locally, version ``V`` of asset ``NAME`` is the folder ``root_dir/NAME/V``.

Example::

    model_input_table:
      type: airflow_kedro_azureml.datasets.AzureMLPipelineDataset
      root_dir: data/05_model_input
      dataset:
        type: pandas.ParquetDataset
        filepath: model_input_table.parquet
"""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path
from typing import Any

from kedro.io.core import (
    AbstractDataset,
    DatasetError,
    Version,
    parse_dataset_definition,
)

from airflow_kedro_azureml.compute.asset_versions import local_versions

_INNER_DATA_FILE = "data.pkl"


class _FolderDataset(AbstractDataset):
    """A Kedro dataset stored under a folder that a step mount can replace."""

    def __init__(
        self,
        *,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str,
        filepath_arg: str = "filepath",
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        config = {"type": dataset} if isinstance(dataset, str | type) else dict(dataset)
        if filepath_arg not in config:
            raise DatasetError(
                f"{type(self).__name__}: the wrapped dataset config needs '{filepath_arg}' "
                "(a path relative to the folder); set 'filepath_arg' if the dataset names "
                "its path differently"
            )
        config[filepath_arg] = _relative_to_project(str(config[filepath_arg]))
        relative = Path(str(config[filepath_arg]))
        if relative.is_absolute() or "://" in str(config[filepath_arg]):
            raise DatasetError(
                f"{type(self).__name__}: '{filepath_arg}: {config[filepath_arg]}' must be a "
                f"path relative to the folder, e.g. 'model.pkl'; put the folder in 'root_dir'"
            )
        self._dataset_config = config
        self._root_dir = str(root_dir)
        self._filepath_arg = filepath_arg
        self._version = version
        self._mounted_dir: str | None = None
        self.metadata = metadata

    @property
    def relative_filepath(self) -> str:
        """The wrapped dataset's path inside the folder."""
        return str(self._dataset_config[self._filepath_arg])

    def mounted_at(self, folder: str) -> _FolderDataset:
        """Return a copy of this dataset that keeps its file under ``folder`` instead."""
        clone = copy.copy(self)
        clone._mounted_dir = str(folder)
        return clone

    def _local_folder(self, for_save: bool) -> Path:
        return Path(self._root_dir)

    def _folder(self, for_save: bool) -> Path:
        if self._mounted_dir is not None:
            return Path(self._mounted_dir)
        return self._local_folder(for_save)

    def _inner(self, folder: Path) -> AbstractDataset:
        config: dict[str, Any] = copy.deepcopy(self._dataset_config)
        config[self._filepath_arg] = str(folder / self.relative_filepath)
        load_version = save_version = None
        if self._version is not None:
            config["versioned"] = True
            load_version, save_version = self._version.load, self._version.save
        dataset_class, kwargs = parse_dataset_definition(config, load_version, save_version)
        return dataset_class(**kwargs)

    def load(self) -> Any:
        """Load the wrapped dataset from the folder."""
        return self._inner(self._folder(for_save=False)).load()

    def save(self, data: Any) -> None:
        """Save ``data`` with the wrapped dataset into the folder."""
        folder = self._folder(for_save=True)
        folder.mkdir(parents=True, exist_ok=True)
        self._inner(folder).save(data)

    def _exists(self) -> bool:
        try:
            return self._inner(self._folder(for_save=False)).exists()
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": self._dataset_config.get("type"),
            "root_dir": self._root_dir,
            "filepath": self.relative_filepath,
            "mounted_dir": self._mounted_dir,
            "versioned": self._version is not None,
        }


class AzureMLPipelineDataset(_FolderDataset):
    """Stores any file-based Kedro dataset in the step's Azure ML-managed folder.

    When a dataset of this type is written by one step and read by another, the
    compiled job wires it through an Azure ML ``uri_folder`` output. Locally it
    lives at ``root_dir/<filepath>``. ``versioned: true`` versions the wrapped
    dataset, under the run id on Azure ML as in ``kedro run``.
    """

    def __init__(
        self,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = "data",
        filepath_arg: str = "filepath",
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            dataset=dataset,
            root_dir=root_dir,
            filepath_arg=filepath_arg,
            version=version,
            metadata=metadata,
        )


class AzureMLAssetDataset(_FolderDataset):
    """Reads or writes one version of an Azure ML data asset through any Kedro dataset.

    On Azure ML, an input of this type is bound to the asset version named by
    ``azureml_version`` (the latest when unset) and an output becomes a new
    asset version. Locally, version ``V`` of asset ``NAME`` is the folder
    ``root_dir/NAME/V``; the latest is the highest version (numbers compare as
    numbers), and a save without a version writes the next number.
    """

    def __init__(
        self,
        azureml_dataset: str,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = "data",
        filepath_arg: str = "filepath",
        azureml_version: str | int | None = None,
        azureml_type: str = "uri_folder",
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$", azureml_dataset or ""):
            raise DatasetError(
                f"AzureMLAssetDataset: azureml_dataset {azureml_dataset!r} is not a valid "
                "Azure ML asset name (letters, digits, '_', '-', '.'; at most 255 characters)"
            )
        if azureml_type not in ("uri_folder", "uri_file"):
            raise DatasetError(
                f"AzureMLAssetDataset: azureml_type {azureml_type!r} is not supported; "
                "use 'uri_folder' or 'uri_file'"
            )
        super().__init__(
            dataset=dataset,
            root_dir=root_dir,
            filepath_arg=filepath_arg,
            version=None,
            metadata=metadata,
        )
        self.azureml_dataset = azureml_dataset
        self.azureml_version = None if azureml_version is None else str(azureml_version)
        self.azureml_type = azureml_type
        self._kedro_version = version

    def _asset_dir(self) -> Path:
        return Path(self._root_dir) / self.azureml_dataset

    def local_versions(self) -> list[str]:
        """The versions of this asset found locally, oldest first."""
        return local_versions(self._asset_dir())

    def _local_folder(self, for_save: bool) -> Path:
        if for_save:
            return self._asset_dir() / self._save_version()
        version = self.azureml_version
        if version is None:
            versions = self.local_versions()
            if not versions:
                raise DatasetError(
                    f"AzureMLAssetDataset: no local version of asset '{self.azureml_dataset}' "
                    f"under '{self._asset_dir()}'; put the data in "
                    f"'{self._asset_dir() / '1' / self.relative_filepath}' or set azureml_version"
                )
            version = versions[-1]
        return self._asset_dir() / version

    def _save_version(self) -> str:
        if self._kedro_version is not None and self._kedro_version.save:
            return str(self._kedro_version.save)
        if self.azureml_version is not None:
            return self.azureml_version
        numbers = [int(v) for v in self.local_versions() if v.isdigit()]
        return str(max(numbers, default=0) + 1)

    def _describe(self) -> dict[str, Any]:
        description = super()._describe()
        description.update(
            azureml_dataset=self.azureml_dataset,
            azureml_version=self.azureml_version,
            azureml_type=self.azureml_type,
        )
        return description


class FolderPickleDataset(AbstractDataset):
    """Pickles one in-memory object into a folder, so it can cross Azure ML steps."""

    def __init__(self, folder: str) -> None:
        self._folder = Path(folder)

    def load(self) -> Any:
        """Unpickle the object from the folder."""
        path = self._folder / _INNER_DATA_FILE
        if not path.exists():
            raise DatasetError(f"no data at '{path}': the step that produces it did not write it")
        with path.open("rb") as handle:
            return pickle.load(handle)

    def save(self, data: Any) -> None:
        """Pickle ``data`` into the folder."""
        self._folder.mkdir(parents=True, exist_ok=True)
        with (self._folder / _INNER_DATA_FILE).open("wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def _exists(self) -> bool:
        return (self._folder / _INNER_DATA_FILE).exists()

    def _describe(self) -> dict[str, Any]:
        return {"folder": str(self._folder)}


def _relative_to_project(filepath: str) -> str:
    """Undo Kedro's making of a nested ``filepath`` absolute against the project root.

    Kedro's context turns every relative ``filepath`` in the catalog, nested ones
    included, into ``<project root>/<filepath>``; inside these wrappers it is meant
    relative to the folder, so take the project root off again.
    """
    path = Path(filepath)
    if not path.is_absolute():
        return filepath
    from kedro.utils import find_kedro_project

    root = find_kedro_project(path.parent)
    if root is None:
        return filepath
    try:
        return path.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return filepath
