"""The runner ``execute`` uses: rewires a step's datasets to the folders Azure ML mounted.

A dataset that crosses steps is read from (or written to) the folder of the
step input (or output) Azure ML binds to it: ``AzureMLPipelineDataset`` and
``AzureMLAssetDataset`` keep their wrapped file there; an in-memory dataset is
pickled there. Everything else in the catalog is left as the project defines it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

from airflow_kedro_azureml.compute.datasets import FolderPickleDataset, _FolderDataset
from airflow_kedro_azureml.errors import StepRunError

logger = logging.getLogger(__name__)


def rewire_catalog(catalog: Any, folders: Mapping[str, str]) -> None:
    """Point each dataset in ``folders`` at its mounted folder, in place."""
    catalog_logger = logging.getLogger(type(catalog).__module__)
    previous = catalog_logger.level
    catalog_logger.setLevel(logging.ERROR)  # replacing entries is the point here
    try:
        for name, folder in sorted(folders.items()):
            dataset = catalog.get(name)
            if isinstance(dataset, _FolderDataset):
                catalog[name] = dataset.mounted_at(folder)
            elif dataset is None or isinstance(dataset, MemoryDataset):
                catalog[name] = FolderPickleDataset(folder)
            else:
                raise StepRunError(
                    f"dataset {name!r} is a {type(dataset).__name__}, which cannot be mounted "
                    "from an Azure ML folder; recompile the job with this version of the package"
                )
            logger.info("Dataset %r uses folder %s", name, folder)
    finally:
        catalog_logger.setLevel(previous)


class _NodeFailureReporter:
    """Logs which node failed, so the step log names it next to the traceback."""

    @hook_impl
    def on_node_error(self, error: Exception, node: Any) -> None:
        logger.error("Node %r failed: %s: %s", node.name, type(error).__name__, error)


class MountedFoldersRunner(SequentialRunner):
    """Kedro's sequential runner, after rewiring the step's datasets to mounted folders."""

    def __init__(self, folders: Mapping[str, str]) -> None:
        super().__init__()
        self._folders = dict(folders)

    def run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        """Rewire the catalog, then run the nodes as ``SequentialRunner`` does."""
        rewire_catalog(catalog, self._folders)
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
