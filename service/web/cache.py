"""ETag, `If-None-Match` → 304 and the server-side response cache, for GETs on each route.

`CacheMiddleware` runs per route (inside CORS, outside compression), so it stores the bytes
actually sent: strong `ETag` (hash of the body, plus the dataset version on `/v1`),
`If-None-Match` → 304, and a server-side cache keyed on method, path, sorted query, `Accept`
and `Accept-Encoding`, emptied whenever the dataset version moves. With `REDIS_URL`, a second
level in Redis (`SharedResponseCache`) is shared by every replica and worker; the in-process
LRU stays in front of it, so a hit costs no round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.web.asgi import Headers, header, send_whole
from service.web.observability import CACHE_EVENTS
from service.web.paths import DATA_PREFIX, OPERATIONAL_PREFIXES, PRIVATE_PREFIXES

if TYPE_CHECKING:
    from service.web.layer import HttpLayer
    from service.web.shared import SharedState

# Responses larger than this are streamed as produced: no ETag, not cached.
MAX_BUFFERED_BYTES = 8 * 1024 * 1024
# Headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5), besides the ETag.
KEPT_ON_304 = {b"cache-control", b"vary", b"content-location", b"expires", b"link"}
# Headers recomputed for the stored body rather than kept from the handler's answer.
_DROPPED_WHEN_STORED = (b"etag", b"content-length", b"date", b"last-modified")

# Shared entries expire after this, seconds: a version bump already makes old ones unreachable
# (their key holds the version); the expiry only gives their memory back.
SHARED_TTL = 600

CacheKey = tuple[Any, ...]
# The stored form of a shared entry: status, headers, body, ETag, route template.
_SharedEntry = tuple[int, list[tuple[bytes, bytes]], bytes, str, str]
# Where the edge leaves the cache key it computed, in the scope's state, for `CacheMiddleware`.
CACHE_KEY_STATE = "response_cache_key"
HITS = CACHE_EVENTS.labels("hit")
MISSES = CACHE_EVENTS.labels("miss")


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    headers: Headers
    body: bytes
    etag: str
    # False for responses that must not be replayed to other clients (they set a cookie).
    shareable: bool = True
    # The route template that produced it: what the edge logs and counts for a hit it answers.
    route: str = ""


class ResponseCache:
    """LRU over whole responses, bounded by body bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._bytes = 0

    def get(self, key: CacheKey) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: CachedResponse) -> None:
        size = len(entry.body)
        if size > self.max_bytes // 8:  # one big body must not flush everything else
            return
        if (old := self._entries.pop(key, None)) is not None:
            self._bytes -= len(old.body)
        self._entries[key] = entry
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class SharedResponseCache:
    """Whole responses in Redis (`RedisStore`), shared by every process; the same size rule
    as the LRU's. Redis unreachable: a miss and no store (the breaker logs it)."""

    def __init__(self, shared: SharedState, max_body_bytes: int) -> None:
        self.shared = shared
        self.max_body_bytes = max_body_bytes

    @staticmethod
    def store_key(key: CacheKey) -> str:
        """`v<version>:<hash of the rest>`: bounded length whatever the URL."""
        digest = hashlib.blake2b(msgspec.msgpack.encode(key[1:]), digest_size=20).hexdigest()
        return f"v{key[0]}:{digest}"

    async def get(self, key: CacheKey) -> CachedResponse | None:
        store = self.shared.responses
        blob = await self.shared.breaker.call(lambda: store.get(self.store_key(key)), lambda: None)
        if blob is None:
            return None
        try:
            status, headers, body, etag, route = msgspec.msgpack.decode(blob, type=_SharedEntry)
        except msgspec.DecodeError:  # written by another release: a miss
            return None
        return CachedResponse(status, list(headers), body, etag, route=route)

    async def put(self, key: CacheKey, entry: CachedResponse) -> None:
        if len(entry.body) > self.max_body_bytes:
            return
        blob = msgspec.msgpack.encode(
            (entry.status, entry.headers, entry.body, entry.etag, entry.route)
        )
        store = self.shared.responses
        await self.shared.breaker.call(
            lambda: store.set(self.store_key(key), blob, expires_in=SHARED_TTL), lambda: None
        )


def etag_matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` uses the weak comparison (RFC 9110 §13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def sorted_query(query: bytes) -> bytes:
    """Order parameters by name; repeated names keep their order (it can matter)."""
    if not query:
        return b""
    ordered = sorted(query.split(b"&"), key=_param_name)
    return b"&".join(ordered)


def _param_name(pair: bytes) -> bytes:
    return pair.partition(b"=")[0]


def cache_key(version: int | None, path: str, query: bytes, headers: Headers) -> CacheKey:
    """What a stored GET response depends on: data version, path, query in a canonical order,
    and the two negotiated headers."""
    return (
        version,
        path,
        sorted_query(query),
        header(headers, b"accept") or b"",
        header(headers, b"accept-encoding") or b"",
    )


def stored_response(
    version: int | None, start_headers: Headers, body: bytes, route: str = ""
) -> CachedResponse:
    """The 200 as it is stored and replayed: its headers, a stable body, and its ETag."""
    # A handler that knows its record's revision sets its own strong ETag (writable records:
    # `"<resource>:<id>:r<revision>"`, the validator `If-Match` checks): keep it rather than
    # hashing the body, so it is the same whatever the compression.
    handler_etag = header(start_headers, b"etag")
    headers = [(k, v) for k, v in start_headers if k.lower() not in _DROPPED_WHEN_STORED]
    gzipped = (header(headers, b"content-encoding") or b"").lower() == b"gzip"
    if gzipped and body[:2] == b"\x1f\x8b" and len(body) >= 10:
        # Zero the gzip header's MTIME (RFC 1952 allows 0) so the bytes, and the ETag,
        # depend on the content only.
        body = body[:4] + b"\0\0\0\0" + body[8:]
    headers.append((b"content-length", str(len(body)).encode()))
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    etag = f'"v{version}-{digest}"' if version is not None else f'"{digest}"'
    if handler_etag is not None:
        etag = handler_etag.decode("latin-1")
    shareable = header(headers, b"set-cookie") is None
    return CachedResponse(200, headers, body, etag, shareable, route)


def cacheable(http: dict[str, Any]) -> bool:
    """Whether the response cache (and its ETag/304) handles this request: GETs, except
    operational paths and private ones (their guard must run for every request)."""
    path: str = http.get("path", "")
    return (
        http["method"] == "GET"
        and not path.startswith(OPERATIONAL_PREFIXES)
        and not path.startswith(PRIVATE_PREFIXES)
    )


async def find(layer: HttpLayer, key: CacheKey) -> CachedResponse | None:
    """This process's LRU first, then the shared cache (kept in the LRU once fetched)."""
    cache, shared = layer.cache, layer.shared_cache
    entry = cache.get(key) if cache is not None else None
    if entry is not None or shared is None:
        return entry
    if (entry := await shared.get(key)) is not None and cache is not None:
        cache.put(key, entry)
    return entry


async def send_entry(send: Send, entry: CachedResponse, if_none_match: bytes | None) -> None:
    """A stored 200 as it is replayed: whole, or a 304 when `If-None-Match` matches its ETag."""
    etag = (b"etag", entry.etag.encode())
    if if_none_match is not None and etag_matches(if_none_match.decode("latin-1"), entry.etag):
        kept = [(k, v) for k, v in entry.headers if k.lower() in KEPT_ON_304]
        await send_whole(send, 304, [*kept, etag], b"")
        return
    await send_whole(send, entry.status, [*entry.headers, etag], entry.body)


async def edge_hit(layer: HttpLayer, http: dict[str, Any]) -> CachedResponse | None:
    """The stored answer to `http`, looked up by the edge before routing: a hit then skips
    Litestar's routing and middleware (on the bench, about half of a hit's time went there).
    Only with the dataset version in hand; otherwise (and on a miss) `CacheMiddleware` goes on
    as before, reusing the key left in the scope's state."""
    if layer.cache is None and layer.shared_cache is None:
        return None
    if not cacheable(http):
        return None
    path: str = http["path"]
    if path.startswith(DATA_PREFIX):
        version = layer.versions.in_hand()
        if version is None:  # must (re)read it: CacheMiddleware waits for it, a 503 if it fails
            return None
    else:
        version = None
    key = cache_key(version, path, http.get("query_string", b""), http["headers"])
    entry = await find(layer, key)
    if entry is None:
        http["state"][CACHE_KEY_STATE] = key
        return None
    if not entry.route:  # nothing to log it under: CacheMiddleware answers it after routing
        return None
    HITS.inc()
    return entry


class CacheMiddleware:
    """Per-route: ETag, 304 and the server-side response cache for GETs."""

    def __init__(self, app: ASGIApp, layer: HttpLayer) -> None:
        self.app = app
        self.layer = layer
        self._pending: dict[CacheKey, asyncio.Future[CachedResponse | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        http = cast("dict[str, Any]", scope)
        if scope["type"] != ScopeType.HTTP or not cacheable(http):
            await self.app(scope, receive, send)
            return
        headers: Headers = http["headers"]
        # Data depends on the dataset version (a database read at most once a second; if the
        # database is down this raises and the request is a 503).
        key: CacheKey | None = http.get("state", {}).get(CACHE_KEY_STATE)
        path: str = http["path"]
        if key is None:
            version = await self.layer.versions.current() if path.startswith(DATA_PREFIX) else None
            key = cache_key(version, path, http.get("query_string", b""), headers)
            entry = await find(self.layer, key)
        else:  # the edge looked it up: a miss
            entry = None
        (HITS if entry is not None else MISSES).inc()
        if entry is None:
            route = http.get("path_template") or ""
            entry = await self._render_once(key, scope, receive, send, key[0], route)
            if entry is None:  # already sent: not cacheable
                return
            if entry.shareable:
                await self._store(key, entry)
        await send_entry(send, entry, header(headers, b"if-none-match"))

    async def _store(self, key: CacheKey, entry: CachedResponse) -> None:
        if self.layer.cache is not None:
            self.layer.cache.put(key, entry)
        if self.layer.shared_cache is not None:
            await self.layer.shared_cache.put(key, entry)

    async def _render_once(
        self,
        key: CacheKey,
        scope: Scope,
        receive: Receive,
        send: Send,
        version: int | None,
        route: str,
    ) -> CachedResponse | None:
        """Concurrent misses of one key (same version, URL, `Accept`, `Accept-Encoding`) wait
        for the first one's answer instead of each running the handler: a burst on a page that
        just expired, or that no cache holds, costs one query, cache on or off."""
        pending = self._pending.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None and shared.shareable:
                return shared
            return await self._render(scope, receive, send, version, route)
        future: asyncio.Future[CachedResponse | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        entry: CachedResponse | None = None
        try:
            entry = await self._render(scope, receive, send, version, route)
        finally:
            del self._pending[key]
            future.set_result(entry)  # None (an error, a stream): each waiter runs its own
        return entry

    async def _render(
        self, scope: Scope, receive: Receive, send: Send, version: int | None, route: str
    ) -> CachedResponse | None:
        """Run the handler; return the 200 to send, or pass anything else straight through."""
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        size = 0
        passthrough = False

        async def capture(message: Message) -> None:
            nonlocal start, size, passthrough
            msg = cast("dict[str, Any]", message)
            if passthrough:
                await send(message)
            elif msg["type"] == "http.response.start":
                start = msg
                if msg["status"] != 200:
                    passthrough = True
                    await send(message)
            elif msg["type"] == "http.response.body" and start is not None:
                chunks.append(msg.get("body", b""))
                size += len(chunks[-1])
                # A streamed body (exports) or one too big to hold passes through uncached; a
                # stream must not be held back: it only ends once the server sees it complete.
                if msg.get("more_body") or size > MAX_BUFFERED_BYTES:
                    passthrough = True
                    await send(cast("Message", start))
                    await send(cast("Message", {**msg, "body": b"".join(chunks)}))
                    chunks.clear()

        await self.app(scope, receive, capture)
        if passthrough or start is None:
            return None
        return stored_response(version, start.get("headers", []), b"".join(chunks), route)
