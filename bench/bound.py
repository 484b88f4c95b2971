"""The bound: the least a 304 with our service's per-request duties can cost on our server
stack -- a yardstick for the 304 workload, not a service.

One ASGI function, nothing shared with app/, every duty inlined: the request id (the
caller's if sane, else 128 random bits), the rate limit (a fixed window per client
address, its four RateLimit fields), validators kept per URL and Accept (checked against
the data version and the day), the metrics (a count per route and status, a latency
histogram) and a JSON access line per request, written in batches. The 304 carries the
fields our service's 304 carries. What lies between the ceiling's hello and this is the
price of those duties and fields on uvicorn; what lies between this and our service is
the price of our code's structure.

    uvicorn bench.bound:app
    GET /any/path                            200, with its ETag
    GET /any/path  If-None-Match: <etag>     304
"""

import asyncio
import hashlib
import random
import re
import sys
import time
from bisect import bisect_left

import orjson

VERSION = 1  # the data version: it never changes here
LIMIT, WINDOW = 1_000_000_000, 60
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
STATIC = [(b"ratelimit-limit", b"%d" % LIMIT), (b"ratelimit-policy", b"%d;w=%d" % (LIMIT, WINDOW))]
ROUTE = "/{path}"

kept: dict[tuple[str, bytes, bytes | None], tuple[int, int, bytes, list[tuple[bytes, bytes]]]] = {}
windows: dict[str, list[int]] = {}
requests: dict[tuple[str, str, int], int] = {}
latency: dict[tuple[str, str], list[float]] = {}
lines: list[bytes] = []
second = (0, "")
ENDINGS = [f".{n:03d}Z" for n in range(1000)]


def flush() -> None:
    global lines
    batch, lines = lines, []
    batch.append(b"")
    sys.stderr.buffer.write(b"\n".join(batch))


async def app(scope, _receive, send):  # type: ignore[no-untyped-def]
    global second
    if scope["type"] != "http":
        return
    started = time.perf_counter()
    if_none_match = accept = given = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value
        elif name == b"accept":
            accept = value
        elif name == b"x-request-id":
            given = value
    request_id = (
        given.decode() if given and REQUEST_ID.match(given) else f"{random.getrandbits(128):032x}"
    )
    now = time.time()
    whole, day = int(now), int(now // 86_400)
    client = scope["client"][0] if scope.get("client") else "unknown"
    counted = windows.get(key := "ip:" + client)
    if counted is None or counted[0] != whole // WINDOW:
        counted = windows[key] = [whole // WINDOW, 0]
    counted[1] += 1
    limits = [
        STATIC[0],
        (b"ratelimit-remaining", b"%d" % (LIMIT - counted[1])),
        (b"ratelimit-reset", b"%d" % (WINDOW - whole % WINDOW)),
        STATIC[1],
        (b"x-request-id", request_id.encode()),
    ]
    path = scope["path"]
    own = kept.get(url := (path, scope["query_string"], accept))
    if own is None or own[0] != VERSION or own[1] != day:
        tag = hashlib.sha256(f"{VERSION}|{day}|{url}".encode()).hexdigest()[:32].encode()
        fields = [(b"etag", b'"%s"' % tag), (b"cache-control", b"public, max-age=60"),
                  (b"vary", b"Accept, Origin")]  # fmt: skip
        own = kept[url] = (VERSION, day, fields[0][1], fields)
    if if_none_match == own[2]:
        status, headers, body = 304, [*own[3], *limits], b""
    else:
        status, body = 200, b'{"hello":"world"}'
        headers = [(b"content-type", b"application/json"), *own[3], *limits]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    seconds = time.perf_counter() - started
    count = (scope["method"], ROUTE, status)
    requests[count] = requests.get(count, 0) + 1
    histogram = latency.get(pair := count[:2])
    if histogram is None:
        histogram = latency[pair] = [0] * (len(BUCKETS) + 1) + [0.0]
    histogram[bisect_left(BUCKETS, seconds)] += 1
    histogram[-1] += seconds
    if whole != second[0]:
        second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    lines.append(orjson.dumps({
        "time": second[1] + ENDINGS[int((now - whole) * 1000)], "level": "info",
        "logger": "treatykb.access", "message": "request", "request_id": request_id,
        "method": scope["method"], "path": path, "route": ROUTE, "status": status,
        "duration_ms": int(seconds * 1_000_000) / 1000, "client": client,
    }))  # fmt: skip
    if len(lines) == 1:
        asyncio.get_running_loop().call_later(0.005, flush)
