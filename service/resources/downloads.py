"""`/v1/downloads`: the whole dataset at one version (service/downloads.py builds the files).

File URLs carry the dataset version, so their bytes never change: a client that fetched the
index can download every file and know they belong together. When the data moves on, an old
version's URLs answer 410 Gone and the index names the new ones.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db import Db
from service.downloads import Bundle, DownloadFile, TooLarge, build_bundle, current_version
from service.listing.params import reject_unknown
from service.web.errors import COMMON_ERRORS, DETAIL_ERRORS, problem_spec

# Versioned URLs are immutable: cache them for a year (RFC 8246).
IMMUTABLE = "public, max-age=31536000, immutable"


class DownloadLink(msgspec.Struct):
    """One file of the bundle."""

    name: Annotated[str, msgspec.Meta(description="File name, e.g. `metric.csv`.")]
    url: Annotated[str, msgspec.Meta(description="Where to fetch it (versioned, immutable).")]
    media_type: str
    bytes: Annotated[int, msgspec.Meta(description="Size in bytes.")]
    sha256: Annotated[str, msgspec.Meta(description="SHA-256 of the file, hex.")]
    description: str


class DownloadIndex(msgspec.Struct):
    """The downloads of the current dataset version."""

    version: Annotated[int, msgspec.Meta(description="Dataset version the files hold.")]
    files: list[DownloadLink]


class _Bundles:
    """The current version's bundle, built once (concurrent first requests wait for one build)."""

    def __init__(self) -> None:
        self.bundle: Bundle | None = None
        self.lock = asyncio.Lock()

    async def get(self, conn: AsyncConnection) -> Bundle:
        version = await current_version(conn)
        if self.bundle is not None and self.bundle.version == version:
            return self.bundle
        async with self.lock:
            if self.bundle is None or self.bundle.version != version:
                try:
                    self.bundle = await build_bundle(conn)
                except TooLarge as exc:
                    raise HTTPException(
                        status_code=503,
                        detail=f"Downloads are not built on request here: {exc}. "
                        "Publish them with `make downloads` instead.",
                    ) from None
            return self.bundle


def _bundles(state: State) -> _Bundles:
    if "downloads" not in state:
        state["downloads"] = _Bundles()
    bundles: _Bundles = state["downloads"]
    return bundles


def _link(version: int, file: DownloadFile) -> DownloadLink:
    return DownloadLink(
        name=file.name,
        url=f"/v1/downloads/{version}/{file.name}",
        media_type=file.media_type,
        bytes=len(file.body),
        sha256=file.sha256,
        description=file.description,
    )


class DownloadsController(Controller):
    path = "/downloads"
    tags = ["Downloads"]

    @get(
        "/",
        operation_id="listDownloads",
        summary="Bulk downloads of the current dataset version",
        description="A Frictionless Data Package (`datapackage.json` with a Table Schema per "
        "table, one CSV per table, all in `datapackage.zip`) and a SQLite file, each with its "
        "size and SHA-256. File URLs include the dataset version and never change.",
        responses=COMMON_ERRORS,
    )
    async def list_downloads(self, request: Request[Any, Any, Any], db: Db) -> DownloadIndex:
        reject_unknown(request.query_params, frozenset())
        bundle = await _bundles(request.app.state).get(db)
        return DownloadIndex(
            bundle.version, [_link(bundle.version, f) for f in bundle.files.values()]
        )

    @get(
        "/{version:int}/{name:str}",
        operation_id="getDownload",
        summary="One file of the dataset at a version",
        description="The file's bytes. `ETag` and `Repr-Digest` (RFC 9530) carry its SHA-256. "
        "A version other than the current one is a 410 (past) or 404 (unknown): start again "
        "from `GET /v1/downloads`.",
        media_type="application/octet-stream",
        responses={
            **DETAIL_ERRORS,
            404: problem_spec("No such file, or no such dataset version."),
            410: problem_spec("The dataset has moved on from this version."),
        },
        raises=[NotFoundException],
    )
    async def get_download(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        version: Annotated[int, Parameter(description="Dataset version, from the index.", ge=0)],
        name: Annotated[
            str,
            Parameter(
                description="File name, from the index.", max_length=80, pattern=r"^[a-z0-9._-]+$"
            ),
        ],
    ) -> Response[bytes]:
        reject_unknown(request.query_params, frozenset())
        bundle = await _bundles(request.app.state).get(db)
        if version < bundle.version:
            raise HTTPException(
                status_code=410,
                detail=f"Version {version} is no longer served; the current version is "
                f"{bundle.version} (see /v1/downloads).",
            )
        file = bundle.files.get(name) if version == bundle.version else None
        if file is None:
            raise NotFoundException(f"No download {name!r} at version {version}.")
        digest = base64.b64encode(bytes.fromhex(file.sha256)).decode()
        return Response(
            file.body,
            media_type=file.media_type,
            headers={
                "ETag": f'"sha256-{file.sha256}"',
                "Repr-Digest": f"sha-256=:{digest}:",
                "Cache-Control": IMMUTABLE,
                "Content-Disposition": f'attachment; filename="{file.name}"',
            },
        )
