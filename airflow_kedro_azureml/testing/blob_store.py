"""In-memory Azure Blob storage: blobs with metadata, staged blocks, prefix listing and export."""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath


@dataclass
class Blob:
    """One stored blob."""

    data: bytes
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def content_md5(self) -> str:
        """Base64 MD5 of the content, as Azure Storage reports it."""
        return base64.b64encode(hashlib.md5(self.data).digest()).decode("ascii")


def _new_etag() -> str:
    return f'"0x{uuid.uuid4().hex[:16].upper()}"'


class BlobStore:
    """Blobs keyed by (account, container, name); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[tuple[str, str, str], Blob] = {}
        self._blocks: dict[tuple[str, str, str], dict[str, bytes]] = {}

    def put(
        self,
        account: str,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Blob:
        """Store (or replace) a blob."""
        blob = Blob(
            data=data,
            content_type=content_type or "application/octet-stream",
            metadata=dict(metadata or {}),
            etag=_new_etag(),
        )
        with self._lock:
            self._blobs[(account, container, name)] = blob
            self._blocks.pop((account, container, name), None)
        return blob

    def get(self, account: str, container: str, name: str) -> Blob | None:
        """The blob, or ``None``."""
        with self._lock:
            return self._blobs.get((account, container, name))

    def set_metadata(
        self, account: str, container: str, name: str, metadata: dict[str, str]
    ) -> Blob | None:
        """Replace a blob's metadata; ``None`` when the blob does not exist."""
        with self._lock:
            blob = self._blobs.get((account, container, name))
            if blob is None:
                return None
            blob.metadata = dict(metadata)
            blob.etag = _new_etag()
            blob.last_modified = datetime.now(UTC)
            return blob

    def delete(self, account: str, container: str, name: str) -> bool:
        """Remove a blob; whether it existed."""
        with self._lock:
            return self._blobs.pop((account, container, name), None) is not None

    def stage_block(
        self, account: str, container: str, name: str, block_id: str, data: bytes
    ) -> None:
        """Keep an uncommitted block for a later block list commit."""
        with self._lock:
            self._blocks.setdefault((account, container, name), {})[block_id] = data

    def commit_blocks(
        self,
        account: str,
        container: str,
        name: str,
        block_ids: list[str],
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Blob:
        """Build a blob from staged (or already committed) blocks, in ``block_ids`` order."""
        with self._lock:
            staged = self._blocks.get((account, container, name), {})
            missing = [block for block in block_ids if block not in staged]
            if missing:
                raise KeyError(f"blocks not staged: {missing}")
            data = b"".join(staged[block] for block in block_ids)
        return self.put(
            account, container, name, data, content_type=content_type, metadata=metadata
        )

    def list(self, account: str, container: str, prefix: str = "") -> list[tuple[str, Blob]]:
        """``(name, blob)`` pairs in a container whose name starts with ``prefix``, sorted."""
        with self._lock:
            found = [
                (name, blob)
                for (acc, cont, name), blob in self._blobs.items()
                if acc == account and cont == container and name.startswith(prefix)
            ]
        return sorted(found, key=lambda pair: pair[0])

    def export(self, account: str, container: str, prefix: str, destination: Path) -> int:
        """Write every blob under folder ``prefix`` into ``destination``; return the file count.

        Blob names are taken relative to ``prefix``; names that would escape
        ``destination`` (``..``) are refused.
        """
        folder_prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        destination.mkdir(parents=True, exist_ok=True)
        count = 0
        for name, blob in self.list(account, container, folder_prefix):
            relative = PurePosixPath(name[len(folder_prefix) :])
            if not relative.parts or ".." in relative.parts or relative.is_absolute():
                continue
            target = destination.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.data)
            count += 1
        return count
