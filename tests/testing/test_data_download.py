"""Where data URIs land: datastore URIs, emulator URLs, data assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kedro_azureml.testing.blob_store import BlobStore
from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.data_download import DataDownloader
from airflow_kedro_azureml.testing.routes.workspace import datastore_body
from airflow_kedro_azureml.testing.state import WorkspaceIdentity, WorkspaceState


@pytest.fixture
def downloader() -> DataDownloader:
    state = WorkspaceState(WorkspaceIdentity("sub", "rg", "ws"))
    context = EmulatorContext(state=state, blobs=BlobStore(), base_url="https://127.0.0.1:1234")
    state.datastores["workspaceblobstore"] = datastore_body(context, "workspaceblobstore", "box")
    context.blobs.put("emulatorstorage", "box", "LocalUpload/h/raw/data.txt", b"raw")
    state.put_asset(
        "data",
        "raw",
        "3",
        {
            "name": "3",
            "properties": {
                "dataUri": "azureml://datastores/workspaceblobstore/paths/LocalUpload/h/raw/"
            },
        },
    )
    return DataDownloader(context)


@pytest.mark.timeout(10)
def test_uri_forms_are_located(downloader: DataDownloader, tmp_path: Path) -> None:
    long_uri = (
        "azureml://subscriptions/sub/resourcegroups/rg/workspaces/ws/datastores/"
        "workspaceblobstore/paths/LocalUpload/h/raw"
    )
    assert downloader.datastore_location(long_uri) == (
        "emulatorstorage",
        "box",
        "LocalUpload/h/raw",
    )
    url = "https://127.0.0.1:1234/emulatorstorage/box/LocalUpload/h/raw"
    assert downloader.blob_location(url) == ("emulatorstorage", "box", "LocalUpload/h/raw")
    assert downloader.blob_location("https://elsewhere/emulatorstorage/box/x") is None
    for reference in (
        "azureml:raw:3",
        "azureml:raw@latest",
        "/subscriptions/sub/x/data/raw/versions/3",
    ):
        folder = Path(downloader.download(reference, tmp_path))
        assert (folder / "data.txt").read_text() == "raw"
    single = Path(downloader.download(url + "/data.txt", tmp_path))
    assert single.name == "data.txt" and single.read_text() == "raw"
    assert downloader.download("/already/local", tmp_path) == "/already/local"


@pytest.mark.timeout(10)
def test_unknown_data_is_an_error(downloader: DataDownloader, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="has no version"):
        downloader.download("azureml:raw:9", tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        downloader.download("azureml:missing:1", tmp_path)
    with pytest.raises(ValueError, match="no blobs"):
        downloader.download("azureml://datastores/workspaceblobstore/paths/none/", tmp_path)
    with pytest.raises(ValueError, match="cannot read"):
        downloader.download("s3://bucket/key", tmp_path)
