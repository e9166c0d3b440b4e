"""Routes for the emulator's Azure Blob storage: the subset azure-storage-blob uses for uploads."""

from __future__ import annotations

import re
import uuid
from email.utils import format_datetime
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from airflow_kedro_azureml.testing.blob_store import Blob
from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse
from airflow_kedro_azureml.testing.routing import Router

STORAGE_API_VERSION = "2021-12-02"
_META_PREFIX = "x-ms-meta-"
_NO_BLOB = "The specified blob does not exist."
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def storage_error(status: int, code: str, message: str, *, with_body: bool = True) -> ApiResponse:
    """An Azure Storage error answer: XML body and ``x-ms-error-code`` header."""
    headers = {"x-ms-error-code": code, "x-ms-version": STORAGE_API_VERSION}
    if not with_body:
        return ApiResponse.empty(status, headers)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    headers["Content-Type"] = "application/xml"
    return ApiResponse(status, body.encode("utf-8"), headers)


def _common_headers() -> dict[str, str]:
    return {"x-ms-version": STORAGE_API_VERSION, "x-ms-request-id": str(uuid.uuid4())}


def _blob_headers(blob: Blob) -> dict[str, str]:
    headers = _common_headers()
    headers.update(
        {
            "ETag": blob.etag,
            "Last-Modified": format_datetime(blob.last_modified, usegmt=True),
            "x-ms-creation-time": format_datetime(blob.last_modified, usegmt=True),
            "Content-Type": blob.content_type,
            "Content-MD5": blob.content_md5,
            "x-ms-blob-type": "BlockBlob",
            "x-ms-server-encrypted": "true",
            "x-ms-lease-status": "unlocked",
            "x-ms-lease-state": "available",
            "Accept-Ranges": "bytes",
        }
    )
    for key, value in blob.metadata.items():
        headers[_META_PREFIX + key] = value
    return headers


def _metadata_from(request: ApiRequest) -> dict[str, str]:
    return {
        key[len(_META_PREFIX) :]: value
        for key, value in request.headers.items()
        if key.lower().startswith(_META_PREFIX)
    }


class BlobRoutes:
    """Blob HEAD/GET/PUT/DELETE, metadata, block upload and container listing."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        account = re.escape(self.context.storage_account)
        container = rf"/(?P<account>{account})/(?P<container>[^/]+)"
        blob = container + r"/(?P<blob>.+)"
        router.add("HEAD", blob, self.head_blob)
        router.add("GET", blob, self.get_blob)
        router.add("PUT", blob, self.put_blob)
        router.add("DELETE", blob, self.delete_blob)
        router.add("GET", container, self.container_get)
        router.add("HEAD", container, self.container_get)
        router.add("PUT", container, self.container_put)

    # -- blobs ------------------------------------------------------------------------------

    def head_blob(self, request: ApiRequest) -> ApiResponse:
        blob = self.context.blobs.get(*self._key(request))
        if blob is None:
            return storage_error(404, "BlobNotFound", _NO_BLOB, with_body=False)
        headers = _blob_headers(blob)
        headers["Content-Length"] = str(len(blob.data))
        return ApiResponse(200, b"", headers)

    def get_blob(self, request: ApiRequest) -> ApiResponse:
        blob = self.context.blobs.get(*self._key(request))
        if blob is None:
            return storage_error(404, "BlobNotFound", _NO_BLOB)
        headers = _blob_headers(blob)
        wanted = request.header("x-ms-range") or request.header("Range")
        match = _RANGE.fullmatch(wanted.strip()) if wanted else None
        size = len(blob.data)
        if match and size > 0:
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            if start >= size:
                return storage_error(416, "InvalidRange", "The range specified is invalid.")
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return ApiResponse(206, blob.data[start : end + 1], headers)
        return ApiResponse(200, blob.data, headers)

    def put_blob(self, request: ApiRequest) -> ApiResponse:
        account, container, name = self._key(request)
        comp = (request.query_value("comp") or "").lower()
        if comp == "metadata":
            blob = self.context.blobs.set_metadata(
                account, container, name, _metadata_from(request)
            )
            if blob is None:
                return storage_error(404, "BlobNotFound", _NO_BLOB)
            # 200, not 201: azure-storage raises on any other status for set_blob_metadata.
            return ApiResponse(200, b"", self._write_headers(blob))
        if comp == "block":
            block_id = request.query_value("blockid") or ""
            self.context.blobs.stage_block(account, container, name, block_id, request.body)
            headers = {**_common_headers(), "x-ms-request-server-encrypted": "true"}
            return ApiResponse(201, b"", headers)
        if comp == "blocklist":
            return self._commit_block_list(request, account, container, name)
        if comp:
            return storage_error(400, "UnsupportedQueryParameter", f"comp={comp} is not emulated.")
        if self._exists_and_must_not(request, account, container, name):
            return storage_error(409, "BlobAlreadyExists", "The specified blob already exists.")
        blob = self.context.blobs.put(
            account,
            container,
            name,
            request.body,
            content_type=request.header("x-ms-blob-content-type") or request.header("Content-Type"),
            metadata=_metadata_from(request),
        )
        return ApiResponse(201, b"", self._write_headers(blob, with_md5=True))

    def _commit_block_list(
        self, request: ApiRequest, account: str, container: str, name: str
    ) -> ApiResponse:
        try:
            root = ElementTree.fromstring(request.body)
        except ElementTree.ParseError:
            return storage_error(400, "InvalidXmlDocument", "The block list is not valid XML.")
        block_ids = [element.text or "" for element in root]
        if self._exists_and_must_not(request, account, container, name):
            return storage_error(409, "BlobAlreadyExists", "The specified blob already exists.")
        try:
            blob = self.context.blobs.commit_blocks(
                account,
                container,
                name,
                block_ids,
                content_type=request.header("x-ms-blob-content-type"),
                metadata=_metadata_from(request),
            )
        except KeyError as error:
            return storage_error(400, "InvalidBlockList", str(error))
        return ApiResponse(201, b"", self._write_headers(blob))

    def delete_blob(self, request: ApiRequest) -> ApiResponse:
        if not self.context.blobs.delete(*self._key(request)):
            return storage_error(404, "BlobNotFound", _NO_BLOB)
        return ApiResponse(202, b"", _common_headers())

    # -- containers -------------------------------------------------------------------------

    def container_put(self, request: ApiRequest) -> ApiResponse:
        headers = _common_headers()
        headers["ETag"] = f'"0x{uuid.uuid4().hex[:16].upper()}"'
        return ApiResponse(201, b"", headers)

    def container_get(self, request: ApiRequest) -> ApiResponse:
        if (request.query_value("comp") or "").lower() != "list":
            return ApiResponse(200, b"", _common_headers())
        account = request.params["account"]
        container = request.params["container"]
        prefix = request.query_value("prefix") or ""
        delimiter = request.query_value("delimiter") or ""
        include = (request.query_value("include") or "").lower()
        blobs, prefixes = self._list(account, container, prefix, delimiter)
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<EnumerationResults ServiceEndpoint="{escape(self.context.base_url)}/{account}/" '
            f'ContainerName="{escape(container)}">',
            f"<Prefix>{escape(prefix)}</Prefix>",
            "<Blobs>",
        ]
        for name, blob in blobs:
            parts.append(self._blob_xml(name, blob, with_metadata="metadata" in include))
        for folder in prefixes:
            parts.append(f"<BlobPrefix><Name>{escape(folder)}</Name></BlobPrefix>")
        parts.append("</Blobs><NextMarker /></EnumerationResults>")
        headers = _common_headers()
        headers["Content-Type"] = "application/xml"
        return ApiResponse(200, "".join(parts).encode("utf-8"), headers)

    def _list(
        self, account: str, container: str, prefix: str, delimiter: str
    ) -> tuple[list[tuple[str, Blob]], list[str]]:
        blobs: list[tuple[str, Blob]] = []
        prefixes: list[str] = []
        for name, blob in self.context.blobs.list(account, container, prefix):
            rest = name[len(prefix) :]
            if delimiter and delimiter in rest:
                folder = prefix + rest.split(delimiter, 1)[0] + delimiter
                if folder not in prefixes:
                    prefixes.append(folder)
                continue
            blobs.append((name, blob))
        return blobs, prefixes

    @staticmethod
    def _blob_xml(name: str, blob: Blob, *, with_metadata: bool) -> str:
        modified = format_datetime(blob.last_modified, usegmt=True)
        properties = (
            f"<Creation-Time>{modified}</Creation-Time><Last-Modified>{modified}</Last-Modified>"
            f"<Etag>{escape(blob.etag)}</Etag><Content-Length>{len(blob.data)}</Content-Length>"
            f"<Content-Type>{escape(blob.content_type)}</Content-Type>"
            f"<Content-MD5>{blob.content_md5}</Content-MD5><BlobType>BlockBlob</BlobType>"
            "<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
            "<ServerEncrypted>true</ServerEncrypted>"
        )
        metadata = ""
        if with_metadata:
            items = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in blob.metadata.items())
            metadata = f"<Metadata>{items}</Metadata>"
        name_xml = f"<Name>{escape(name)}</Name>"
        return f"<Blob>{name_xml}<Properties>{properties}</Properties>{metadata}</Blob>"

    # -- helpers ----------------------------------------------------------------------------

    def _exists_and_must_not(
        self, request: ApiRequest, account: str, container: str, name: str
    ) -> bool:
        """``If-None-Match: *`` (upload without overwrite) on a blob that exists."""
        if request.header("If-None-Match") != "*":
            return False
        return self.context.blobs.get(account, container, name) is not None

    @staticmethod
    def _key(request: ApiRequest) -> tuple[str, str, str]:
        return request.params["account"], request.params["container"], request.params["blob"]

    @staticmethod
    def _write_headers(blob: Blob, *, with_md5: bool = False) -> dict[str, str]:
        """Answer headers of a write; ``Content-MD5`` only where it is the request body's MD5."""
        headers = _common_headers()
        headers.update(
            {
                "ETag": blob.etag,
                "Last-Modified": format_datetime(blob.last_modified, usegmt=True),
                "x-ms-request-server-encrypted": "true",
            }
        )
        if with_md5:
            headers["Content-MD5"] = blob.content_md5
        return headers
