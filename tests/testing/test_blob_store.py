"""Tests of the in-memory blob store."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_kedro_azureml.testing.blob_store import BlobStore


@pytest.mark.timeout(10)
def test_put_metadata_list_and_export(tmp_path: Path) -> None:
    store = BlobStore()
    store.put("acc", "c", "snap/code/a.py", b"print(1)")
    store.put("acc", "c", "snap/code/pkg/b.py", b"x = 2")
    store.put("acc", "c", "snap/other.txt", b"no")
    store.put("acc", "c", "snap/../escape.txt", b"no")
    assert store.set_metadata("acc", "c", "snap/code/a.py", {"upload_status": "completed"})
    assert store.get("acc", "c", "snap/code/a.py").metadata == {"upload_status": "completed"}
    assert store.set_metadata("acc", "c", "missing", {}) is None
    assert [name for name, _ in store.list("acc", "c", "snap/code/")] == [
        "snap/code/a.py",
        "snap/code/pkg/b.py",
    ]
    count = store.export("acc", "c", "snap/code", tmp_path / "out")
    assert count == 2
    assert (tmp_path / "out" / "pkg" / "b.py").read_text() == "x = 2"


@pytest.mark.timeout(10)
def test_blocks_commit_in_listed_order() -> None:
    store = BlobStore()
    store.stage_block("acc", "c", "big", "b2", b"world")
    store.stage_block("acc", "c", "big", "b1", b"hello ")
    blob = store.commit_blocks("acc", "c", "big", ["b1", "b2"])
    assert blob.data == b"hello world"
    with pytest.raises(KeyError):
        store.commit_blocks("acc", "c", "big", ["b3"])
