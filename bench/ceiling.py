"""The ceiling: a bare ASGI app on our server stack (uvicorn, httptools, uvloop) with
stdlib sqlite3 and orjson, running the same SQL as our service (bench/sql.py) -- what
Python can do on one core -- and a tiny JSON hello for the cost of the stack alone.

    BENCH_DB=bench/.work/bench-10000.db uvicorn bench.ceiling:app
    GET /                        {"hello":"world"}
    GET /sql/list_treaty?treaty=new-start
"""

import os
import sqlite3
from urllib.parse import parse_qsl

import orjson

from bench.sql import COUNTED, SQL

HELLO = b'{"hello":"world"}'
JSON = [(b"content-type", b"application/json")]
_db: sqlite3.Connection | None = None


def _connection() -> sqlite3.Connection:
    global _db
    if _db is None:
        _db = sqlite3.connect(os.environ["BENCH_DB"], check_same_thread=False)
    return _db


def _run(name: str, query: bytes) -> bytes | None:
    sql = SQL.get(name)
    if sql is None:
        return None
    params = dict(parse_qsl(query.decode()))
    if "n" in params:
        params["n"] = int(params["n"])
    cursor = _connection().execute(sql, params)
    names = [d[0] for d in cursor.description]
    page: dict[str, object] = {"items": [dict(zip(names, row, strict=True)) for row in cursor]}
    if name in COUNTED:  # the same capped count our service sends with the page
        counting = {k: v for k, v in params.items() if k != "n"}
        page["total"] = _connection().execute(SQL[COUNTED[name]], counting).fetchone()[0]
    return orjson.dumps(page)


async def app(scope, _receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = HELLO if path == "/" else _run(path.removeprefix("/sql/"), scope["query_string"])
    status = 200 if body is not None else 404
    await send({"type": "http.response.start", "status": status, "headers": JSON})
    await send({"type": "http.response.body", "body": body or b"{}"})
