"""The runner ``execute`` uses: rewires a step's datasets to the folders Azure ML mounted.

A dataset that crosses steps is read from (or written to) the folder of the
step input (or output) Azure ML binds to it: ``AzureMLPipelineDataset`` and
``AzureMLAssetDataset`` keep their wrapped file there; an in-memory dataset is
pickled there; a dataset on a local path (promoted by the compiler) is rebuilt
from its catalog entry with its file moved there. Everything else in the catalog
is left as the project defines it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, MemoryDataset
from kedro.runner import SequentialRunner

from airflow_kedro_azureml.compute.datasets import FolderPickleDataset, _FolderDataset
from airflow_kedro_azureml.errors import StepRunError

logger = logging.getLogger(__name__)


def rewire_catalog(catalog: Any, folders: Mapping[str, str], save_version: str | None) -> None:
    """Point each dataset in ``folders`` at its mounted folder, in place."""
    # Replacing entries is the point here: no "Replacing dataset" warning per dataset. The
    # session's catalog class is made at run time (its module is "abc"), so the logger of
    # every class it derives from is quieted.
    catalog_loggers = {
        logging.getLogger(cls.__module__) for cls in type(catalog).__mro__ if cls is not object
    }
    previous = {catalog_logger: catalog_logger.level for catalog_logger in catalog_loggers}
    for catalog_logger in catalog_loggers:
        catalog_logger.setLevel(logging.ERROR)
    try:
        for name, folder in sorted(folders.items()):
            dataset = catalog.get(name)
            if isinstance(dataset, _FolderDataset):
                catalog[name] = dataset.mounted_at(folder)
            elif dataset is None or isinstance(dataset, MemoryDataset):
                catalog[name] = FolderPickleDataset(folder)
            else:
                catalog[name] = _moved_into(catalog, name, dataset, folder, save_version)
            logger.info("Dataset %r uses folder %s", name, folder)
    finally:
        for catalog_logger, level in previous.items():
            catalog_logger.setLevel(level)


def _moved_into(
    catalog: Any, name: str, dataset: Any, folder: str, save_version: str | None
) -> Any:
    """A promoted dataset: the same type and options, its file (or folder) in ``folder``.

    Rebuilt from its catalog entry with ``filepath`` (or ``path``) replaced by
    ``folder/<the same file name>``; a versioned one keeps versioning, saving under the
    run's version and loading the only version the folder holds.
    """
    config = catalog.config_resolver.resolve_pattern(name) or {}
    key = next((k for k in ("filepath", "path") if k in config), None)
    if key is None:
        raise StepRunError(
            f"dataset {name!r} is a {type(dataset).__name__} without a 'filepath' or 'path' in "
            "its catalog entry, so it cannot be moved into the folder Azure ML mounted; "
            "recompile the job with this version of the package"
        )
    moved = {**config, key: str(Path(folder) / PurePosixPath(str(config[key])).name)}
    return AbstractDataset.from_config(name, moved, load_version=None, save_version=save_version)


class _NodeFailureReporter:
    """Logs which node failed, so the step log names it next to the traceback."""

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        logger.error("Node %r failed: %s: %s", node.name, type(error).__name__, error)


def keep_outputs_in_memory(catalog: Any, pipeline: Any) -> list[str]:
    """Make every output of ``pipeline`` a ``MemoryDataset``: nothing is saved, and the
    step's later nodes still read what earlier ones wrote. Returns the outputs' names."""
    outputs = sorted(pipeline.all_outputs())
    for name in outputs:
        catalog[name] = MemoryDataset()
    return outputs


class MountedFoldersRunner(SequentialRunner):
    """Kedro's sequential runner, after rewiring the step's datasets to mounted folders.

    ``saves_outputs`` false (a distributed step's process other than rank 0): the nodes
    run, their outputs stay in memory.
    """

    def __init__(self, folders: Mapping[str, str], saves_outputs: bool = True) -> None:
        super().__init__()
        self._folders = dict(folders)
        self._saves_outputs = saves_outputs

    def run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        """Rewire the catalog, then run the nodes as ``SequentialRunner`` does."""
        rewire_catalog(catalog, self._folders, run_id)
        if not self._saves_outputs:
            keep_outputs_in_memory(catalog, pipeline)
        if hook_manager is not None and not hook_manager.is_registered(_REPORTER):
            hook_manager.register(_REPORTER)
        return super().run(
            pipeline,
            catalog,
            hook_manager,
            run_id=run_id,
            only_missing_outputs=only_missing_outputs,
        )


_REPORTER = _NodeFailureReporter()
