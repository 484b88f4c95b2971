"""Issue 26's search figures through the service, before and after, in one run.

    python -m bench.search_table --statements 1000000 --small 10000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/postgres --before /tmp/before

For each database (the benchmark's SQLite file and PostgreSQL database, which `bench.run`
builds) and each service (this checkout, and `--before`: an earlier commit's checkout,
served from its own directory on the same data), with the response cache off:

- single unloaded requests, one after another, each query asked once (a query not asked
  before): the issue's eight, the corpus's 20 commonest words, 20 pairs of them and 10
  prefixes as typed (bench/search_options.py's list); `/v1/search?q=...&limit=50`;
- the same queries on the small databases (`--small` statements) for flatness;
- `search_varied` under load (wrk: a different word and page size each request).

Writes bench/results/search-table-<time>-<statements>.json and prints the tables.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench.run import RESULTS, SERVER_ENV, UVICORN, WORK, measure, say, serve, settle
from bench.search_options import ISSUE_QUERIES, queries

PORT = 8120
WORDS = slice(len(ISSUE_QUERIES), len(ISSUE_QUERIES) + 40)  # the 20 words and 20 pairs
PREFIXES = slice(len(ISSUE_QUERIES) + 40, None)


def warm(url: str) -> None:
    """This machine's page cache holding the data both services read, so that a figure is
    the service's (its own caches empty) and not the disk's: the SQLite file, or the
    PostgreSQL search table and its indexes, and the search index's files."""
    from app.search.engine import default_directory

    files = [path for path in default_directory(url).rglob("*") if path.is_file()]
    if url.startswith("sqlite"):
        files.append(Path(url.removeprefix("sqlite:///")))
    else:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            conn.execute("SELECT pg_prewarm(c.oid, 'read') FROM pg_class c WHERE c.relkind IN "
                         "('r', 'i') AND c.relname LIKE '%search_document%'")  # fmt: skip
    for path in files:
        with path.open("rb") as whole:
            while whole.read(1 << 24):
                pass


def start(url: str, cwd: Path | None) -> Any:
    env = {"TREATYKB_DATABASE_URL": url, "TREATYKB_RESPONSE_CACHE": "false", **SERVER_ENV}
    server = serve([*UVICORN, "app.main:create_app", "--factory", "--port", str(PORT)], PORT,
                   {**os.environ, **env}, cwd=cwd)  # fmt: skip
    base = f"http://127.0.0.1:{PORT}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:  # the index built or caught up (not a before's)
        ready = httpx.get(base + "/readyz", timeout=120)
        if ready.status_code == 200 and ready.json().get("search", "current") == "current":
            break
        time.sleep(0.5)
    httpx.get(base + "/v1/search", params={"q": "zzzz-warm-up"}, timeout=120)
    warm(url)
    return server


def singles(base: str) -> list[dict[str, Any]]:
    rows = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for q in queries():
            started = time.perf_counter()
            response = client.get("/v1/search", params={"q": q, "limit": 50})
            ms = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            body = response.json()
            top = [f"{hit['type']}:{hit['key']}" for hit in body["items"][:10]]
            rows.append({"q": q, "ms": round(ms, 2), "total": body["total"], "top": top})
    return rows


def percentiles(rows: list[dict[str, Any]], which: slice) -> dict[str, float]:
    times = sorted(row["ms"] for row in rows[which])
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return {"p50": round(statistics.median(times), 1), "p99": round(p99, 1),
            "max": round(times[-1], 1)}  # fmt: skip


def run_one(url: str, cwd: Path | None, args: argparse.Namespace, load: bool) -> dict[str, Any]:
    server = start(url, cwd)
    base = f"http://127.0.0.1:{PORT}"
    try:
        rows = singles(base)
        result: dict[str, Any] = {"rows": rows, "words": percentiles(rows, WORDS),
                                  "prefixes": percentiles(rows, PREFIXES)}  # fmt: skip
        if load:
            settle(base)
            result["search_varied"] = measure(base, "search_varied", "/v1/search?q=%s&limit=%d",
                                              args)  # fmt: skip
        return result
    finally:
        server.terminate()
        server.wait()


def urls(args: argparse.Namespace, statements: int) -> dict[str, str]:
    found = {"sqlite": f"sqlite:///{WORK / f'bench-{statements}.db'}"}
    if args.postgres:
        found["postgresql"] = str(
            httpx.URL(args.postgres).copy_with(path=f"/bench_{statements}")
        ).replace("postgresql://", "postgresql+psycopg://")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    results: dict[str, Any] = {"statements": args.statements, "small": args.small}
    sides = {"after": None, **({"before": args.before} if args.before else {})}
    for engine, url in urls(args, args.statements).items():
        for side, cwd in sides.items():
            say(f"{engine} {side} ...")
            results[f"{engine}_{side}"] = run_one(url, cwd, args, load=True)
    for engine, url in urls(args, args.small).items():
        results[f"{engine}_after_small"] = run_one(url, None, args, load=False)
    report(results)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"search-table-{time.strftime('%Y%m%dT%H%M%S')}-{args.statements}.json"
    out.write_text(json.dumps(results, indent=1))
    say(str(out))


def report(results: dict[str, Any]) -> None:
    runs = [name for name in results if isinstance(results[name], dict)]
    say("q".ljust(26) + "hits".rjust(9) + "".join(name.rjust(22) for name in runs))
    first = results[runs[0]]["rows"]
    for i, row in enumerate(first):
        times = "".join(f"{results[name]['rows'][i]['ms']:>22.1f}" for name in runs)
        say(row["q"][:25].ljust(26) + f"{row['total']:>9,}" + times)
    for part in ("words", "prefixes"):
        say(part + ": " + "; ".join(f"{name} {results[name][part]}" for name in runs))
    for name in runs:
        if "search_varied" in results[name]:
            say(f"search_varied {name}: {results[name]['search_varied']}")
    if "postgresql_after" in results:
        pairs = list(zip(results["sqlite_after"]["rows"], results["postgresql_after"]["rows"],
                         strict=True))  # fmt: skip
        ordered = sum(a["top"] == b["top"] for a, b in pairs)
        counted = sum(a["total"] == b["total"] for a, b in pairs)
        say(f"both engines: the same top 10 in the same order for {ordered} of {len(pairs)} "
            f"queries, the same total for {counted}")  # fmt: skip


if __name__ == "__main__":
    main()
