"""What the operator does with the data assets a completed job wrote: tag them, announce them.

Each version gets the Airflow and Kedro tags of the task try that made it (on Azure
ML; locally the version folder has no tags), and an Airflow asset event is emitted
for it through the task's ``AssetAlias`` outlet (see ``airflow_kedro_azureml.assets``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.assets import WrittenAsset, emit_asset_events

if TYPE_CHECKING:
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook


def publish_data_assets(
    context: Any,
    alias: str,
    written: list[WrittenAsset],
    tags: dict[str, str],
    log: Any,
    hook: AzureMLHook | None = None,
) -> None:
    """Tag each written version (with ``hook``: on Azure ML), then emit its asset event."""
    if not written:
        return
    if hook is not None:
        for asset in written:
            hook.tag_data_version(asset.name, asset.version, tags)
    kept: tuple[str, ...] = ("kedro_run_id", "airflow_dag_id", "airflow_run_id")
    extra = {key: tags[key] for key in kept if key in tags}
    emitted = emit_asset_events(context, alias, written, extra)
    for asset in written:
        log.info(
            "Data asset %s version %s written%s: %s",
            asset.name,
            asset.version,
            " (asset event emitted)" if emitted else "",
            asset.uri,
        )
