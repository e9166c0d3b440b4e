"""Copies what a job reads (code snapshots, data URIs) from the emulator's blob storage to disk."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from airflow_kedro_azureml.testing.context import EmulatorContext

_DATASTORE_URI = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resource[gG]roups/[^/]+/"
    r"(?:providers/Microsoft\.MachineLearningServices/)?workspaces/[^/]+/)?"
    r"datastores/(?P<datastore>[^/]+)/paths/(?P<path>.*)$"
)
_DATA_ARM_ID = re.compile(r"/data/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$")
_DATA_SHORT = re.compile(r"^azureml:(?P<name>[^:/@]+)(?::(?P<version>[^:/@]+)|@(?P<label>\w+))?$")


class DataDownloader:
    """Maps storage URIs the SDK produces to blobs, and copies those blobs into folders."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    def blob_location(self, url: str) -> tuple[str, str, str] | None:
        """``(account, container, path)`` of an ``https://`` URL on the emulator, else ``None``."""
        parts = urlsplit(url)
        if parts.scheme != "https" or f"https://{parts.netloc}" != self.context.base_url:
            return None
        segments = unquote(parts.path).lstrip("/").split("/", 2)
        if len(segments) < 2 or segments[0] != self.context.storage_account:
            return None
        return segments[0], segments[1], segments[2] if len(segments) > 2 else ""

    def datastore_location(self, uri: str) -> tuple[str, str, str] | None:
        """``(account, container, path)`` of an ``azureml://...datastores/{ds}/paths/...`` URI."""
        match = _DATASTORE_URI.match(uri)
        if match is None:
            return None
        name = match.group("datastore")
        with self.context.state.lock:
            datastore = self.context.state.datastores.get(name)
        if datastore is None:
            raise ValueError(f"datastore {name!r} of {uri!r} does not exist")
        container = datastore["properties"]["containerName"]
        return self.context.storage_account, container, unquote(match.group("path"))

    def data_asset_uri(self, reference: str) -> str | None:
        """The storage URI of a data asset named by (``azureml:``) ARM id or ``azureml:name:v``.

        ``None`` when ``reference`` does not name a data asset.
        """
        stripped = reference.removeprefix("azureml:")
        match = _DATA_ARM_ID.search(stripped)
        if match is not None and stripped.startswith("/subscriptions/"):
            name, version = match.group("name"), match.group("version")
        else:
            short = _DATA_SHORT.match(reference)
            if short is None:
                return None
            name, version = short.group("name"), short.group("version")
        versions = self.context.state.asset_versions("data", name)
        if not versions:
            raise ValueError(f"data asset {name!r} does not exist")
        if version is None:
            chosen = versions[-1]
        else:
            found = [body for body in versions if body["name"] == version]
            if not found:
                raise ValueError(f"data asset {name!r} has no version {version!r}")
            chosen = found[0]
        return str(chosen["properties"].get("dataUri"))

    def download(self, uri: str, destination_root: Path) -> str:
        """A local path holding the content of ``uri`` (downloaded below ``destination_root``).

        Data assets are followed to their storage URI; local paths and ``file://`` URIs are
        returned as they are; anything the emulator cannot place raises ``ValueError``.
        """
        if uri.startswith("file://"):
            return unquote(urlsplit(uri).path)
        asset_uri = self.data_asset_uri(uri)
        if asset_uri is not None:
            return self.download(asset_uri, destination_root)
        if uri.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", uri):
            return uri
        location = self.datastore_location(uri) or self.blob_location(uri)
        if location is None:
            raise ValueError(f"the emulator cannot read data from {uri!r}")
        digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]
        return str(self.export(location, destination_root / digest))

    def export(self, location: tuple[str, str, str], destination: Path) -> Path:
        """Copy a blob (as a file inside ``destination``) or a folder (as ``destination``)."""
        account, container, path = location
        single = self.context.blobs.get(account, container, path.strip("/"))
        if single is not None and not path.endswith("/"):
            destination.mkdir(parents=True, exist_ok=True)
            target = destination / Path(path).name
            target.write_bytes(single.data)
            return target
        if self.context.blobs.export(account, container, path, destination) == 0:
            raise ValueError(f"no blobs under {container}/{path}")
        return destination
