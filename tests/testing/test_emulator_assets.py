"""Data assets through the real SDK: upload a folder, get by version and label, read it in a job."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator


def _data_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / f"data-{text}"
    folder.mkdir()
    (folder / "data.txt").write_text(text)
    return folder


@pytest.mark.timeout(60)
def test_data_asset_create_get_and_latest(
    azureml_emulator: AzureMLEmulator, tmp_path: Path
) -> None:
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    ml_client = azureml_emulator.ml_client()
    first = ml_client.data.create_or_update(
        Data(
            name="raw",
            version="1",
            path=str(_data_folder(tmp_path, "v1")),
            type=AssetTypes.URI_FOLDER,
        )
    )
    assert first.path.startswith("azureml://datastores/workspaceblobstore/paths/LocalUpload/")
    ml_client.data.create_or_update(
        Data(
            name="raw",
            version="2",
            path=str(_data_folder(tmp_path, "v2")),
            type=AssetTypes.URI_FOLDER,
        )
    )
    assert ml_client.data.get("raw", version="1").path == first.path
    assert ml_client.data.get("raw", label="latest").version == "2"
    assert sorted(d.version for d in ml_client.data.list(name="raw")) == ["1", "2"]
    assert azureml_emulator.requests("POST", r"/datastores/workspaceblobstore/listSecrets$")
    uploaded = azureml_emulator.blobs.list("emulatorstorage", "azureml-blobstore-emulator")
    assert sorted(blob.data for _, blob in uploaded) == [b"v1", b"v2"]


@pytest.mark.timeout(60)
def test_pipeline_reads_a_data_asset(
    azureml_emulator: AzureMLEmulator, tmp_path: Path, code_dir: Path
) -> None:
    from azure.ai.ml import Input, command, dsl
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data, Environment

    ml_client = azureml_emulator.ml_client()
    ml_client.data.create_or_update(
        Data(
            name="raw",
            version="1",
            path=str(_data_folder(tmp_path, "asset")),
            type=AssetTypes.URI_FOLDER,
        )
    )
    read = command(
        name="read",
        command="python step.py --inp ${{inputs.inp}}",
        code=str(code_dir),
        environment=Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"),
        inputs={"inp": Input(type="uri_folder")},
    )

    @dsl.pipeline(compute="cpu-cluster")
    def read_asset(raw):  # type: ignore[no-untyped-def]
        read(inp=raw)

    job = ml_client.jobs.create_or_update(
        read_asset(raw=Input(type="uri_folder", path="azureml:raw:1"))
    )
    status = azureml_emulator.wait_for_job(job.name, timeout=30)
    assert status == "Completed", azureml_emulator.job_log(job.name)
    assert "read: asset" in azureml_emulator.job_log(job.name)
