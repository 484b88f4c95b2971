"""Run the benchmark: our service, Datasette on the same file, and the ceiling (a bare
ASGI app running the same SQL with stdlib sqlite3, bench/ceiling.py).

    python -m bench.run --statements 100000 --duration 10

The servers are pinned to CPU 0 and wrk to CPU 1; each workload is measured on the three
in turn, so every ratio compares figures from the same minutes of the same machine.
Results print as a table and land in bench/results/.
"""

import argparse
import datetime as dt
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.generate import _vocabulary, generate
from bench.sql import SQL

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
LUA = """
local words = {}
for word in io.lines(os.getenv("BENCH_WORDS")) do words[#words + 1] = word end
local template = os.getenv("BENCH_TEMPLATE")
math.randomseed(2020)
request = function()
  local word = words[math.random(#words)]
  return wrk.format("GET", string.format(template, word, math.random(40, 50)))
end
"""


def sql(name: str, **params: str) -> str:
    """Datasette's query URL for the named statement of bench/sql.py."""
    return str(httpx.QueryParams({"sql": SQL[name], "_shape": "objects", **params}))


def search_words(_: int) -> Path:
    """2,000 words that occur in the synthetic text, commonest first (search_varied)."""
    words = WORK / "words.txt"
    vocabulary, _ = _vocabulary(random.Random(2020))  # the generator's own vocabulary
    words.write_text("\n".join(vocabulary[:2000]) + "\n")
    return words


def statement_ids(statements: int) -> Path:
    """100,000 statement ids (or every one, in a smaller run), shuffled (by_id_varied):
    more than the service keeps per data version, so most requests read the database."""
    ids = WORK / f"ids-{statements}.txt"
    chosen = random.Random(2020).sample(range(statements), min(statements, 100_000))
    ids.write_text("".join(f"gen-{i:07d}\n" for i in chosen))
    return ids


def days(_: int) -> Path:
    """2,000 days over the synthetic data's 36 years (list_varied's `until`)."""
    rng, first = random.Random(2020), dt.date(1990, 1, 1)
    chosen = [first + dt.timedelta(days=rng.randrange(36 * 365)) for _ in range(2000)]
    (WORK / "days.txt").write_text("".join(f"{day.isoformat()}\n" for day in chosen))
    return WORK / "days.txt"


def treaty_slugs(_: int) -> Path:
    """Every treaty, the seed's and the 50 generated ones of skewed sizes (treaty_varied)."""
    from bench.generate import GENERATED_TREATIES, treaty_slug

    slugs = ["new-start", "inf", "open-skies"]
    slugs += [treaty_slug(k) for k in range(1, GENERATED_TREATIES + 1)]
    (WORK / "treaties.txt").write_text("".join(f"{slug}\n" for slug in slugs))
    return WORK / "treaties.txt"


# What each varied workload draws its %s from; its %d is a page size of 40 to 50.
WORDS = {"by_id_varied": statement_ids, "list_varied": days, "search_varied": search_words,
         "treaty_varied": treaty_slugs, "q_varied": search_words,
         "facets_varied": treaty_slugs}  # fmt: skip
# The workloads that send a different URL each request: measured again with the response
# cache off (`TREATYKB_RESPONSE_CACHE=false`), the reads themselves.
COLD = ("by_id_varied", "list_varied", "treaty_varied", "q_varied", "search_varied",
        "facets_varied")  # fmt: skip


def load(url: str, statements: int, admin: str | None = None) -> dict[str, float]:
    """Build the database through the project's own loader; time it and its peak memory."""
    data = WORK / f"statements-{statements}.ndjson"
    if not data.exists():
        generate(data, statements)
    env = {**os.environ, "TREATYKB_DATABASE_URL": url}
    treatykb = [sys.executable, "-m", "app.cli", "load"]
    subprocess.run([*treatykb, str(ROOT / "seed_data")], env=env, check=True, capture_output=True)
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        loader = subprocess.Popen([*treatykb, str(data)], env=env, stdout=output, stderr=output)
        # The loader's own peak (or its validation workers', if larger: Linux reports the
        # largest of a process and its reaped children), not RUSAGE_CHILDREN's largest
        # child so far (a server of an earlier phase, with a mapped database file).
        _, status, usage = os.wait4(loader.pid, 0)
        seconds = time.perf_counter() - started
        loader.returncode = os.waitstatus_to_exitcode(status)
        if loader.returncode:
            output.seek(0)
            raise SystemExit(f"loading {data} into {url} failed:\n{output.read()[-3000:]}")
    peak_mib = usage.ru_maxrss / 1024
    loading = {"seconds": seconds, "rows_per_s": statements / seconds, "peak_mib": peak_mib,
               "at": time.strftime("%Y-%m-%dT%H:%M:%S")}  # fmt: skip
    if url.startswith("sqlite"):
        stored = Path(url.removeprefix("sqlite:///"))
        loading["bytes"] = sum(f.stat().st_size for f in stored.parent.glob(f"{stored.name}*")
                               if f.is_file())  # fmt: skip
        loading["search_index_bytes"] = _bytes_under(Path(f"{stored}.search"))
        loading["reference"] = reference_load(statements)
    elif admin is not None:
        import psycopg

        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        loading["bytes"] = size[0] if size else 0
        from app.search.engine import default_directory

        loading["search_index_bytes"] = _bytes_under(default_directory(url))
        loading["reference"] = reference_load_postgres(admin, statements)
    _loading_file(url, statements).write_text(json.dumps(loading))
    return loading


# The tables the references fill, and the columns of the rows they are given.
REFERENCE_COLUMNS = {
    "treaty": ("slug", "name", "official_name", "short_name", "kind", "summary", "created_at",
               "updated_at"),
    "person": ("slug", "name", "country_code", "created_at", "updated_at"),
    "statement": ("id", "text", "speaker_slug", "country_code", "said_on", "treaty_slugs",
                  "source_slugs", "created_at", "updated_at"),
    "statement_treaty": ("statement_id", "treaty_slug", "said_on"),
    "statement_source": ("statement_id", "source_slug"),
    "search_document": ("type", "key", "label", "title", "body", "extra", "treaties", "speaker",
                        "date"),
}  # fmt: skip


def _reference_rows(
    data: Path, names: dict[str, str], now: str
) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The bundle's rows per table (REFERENCE_COLUMNS), 10,000 records at a time."""
    with data.open(encoding="utf-8") as lines:
        while batch := [json.loads(line) for line in itertools.islice(lines, 10_000)]:
            rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in REFERENCE_COLUMNS}
            for line in batch:
                r = line["record"]
                if line["resource"] == "treaties":
                    rows["treaty"].append((r["slug"], r["name"], r["official_name"],
                        r["short_name"], r["kind"], r["summary"], now, now))  # fmt: skip
                    continue
                if line["resource"] == "people":
                    rows["person"].append((r["slug"], r["name"], r["country"], now, now))
                    names[r["slug"]] = r["name"]
                    continue
                copies = (
                    ";".join(sorted(r["treaties"])) or None,
                    ";".join(sorted(r["sources"])) or None,
                )
                rows["statement"].append((r["id"], r["text"], r["speaker"], r.get("country"),
                    r["said_on"], *copies, now, now))  # fmt: skip
                rows["statement_treaty"] += [(r["id"], t, r["said_on"]) for t in r["treaties"]]
                rows["statement_source"] += [(r["id"], s) for s in r["sources"]]
                treaties = " " + " ".join(r["treaties"]) + " " if r["treaties"] else ""
                rows["search_document"].append(("statement", r["id"], "", names[r["speaker"]],
                    r["text"], "", treaties, r["speaker"], r["said_on"]))  # fmt: skip
            yield rows


def _seeded(url: str) -> None:
    env = {**os.environ, "TREATYKB_DATABASE_URL": url}
    treatykb = [sys.executable, "-m", "app.cli", "load", "--quiet", str(ROOT / "seed_data")]
    subprocess.run(treatykb, env=env, check=True, capture_output=True)


def _remove(path: Path) -> None:
    """A database file, or the search index directory beside it."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def _bytes_under(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def reference_load(statements: int) -> dict[str, float]:
    """The stdlib path the loading floor is measured against, in the same run: the same
    records into the same migrated schema (its indexes and foreign keys) with
    sqlite3.executemany, 10,000 at a time, then the FTS5 index built in one statement. No
    validation, no change log, no reference checks, no facet counts: what our loader adds
    to this is the price of those."""
    data = WORK / f"statements-{statements}.ndjson"
    db = WORK / f"reference-{statements}.db"
    for stale in WORK.glob(f"reference-{statements}.db*"):
        _remove(stale)
    _seeded(f"sqlite:///{db}")
    started = time.perf_counter()
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA foreign_keys=ON")
    # The schema's rows carry the data version that wrote them (app/history): a version
    # of its own, as the service's write path names one.
    version = connection.execute("SELECT version + 1 FROM data_version").fetchone()[0]
    connection.create_function("treatykb_write_version", 0, lambda: version)
    names = dict(connection.execute("SELECT slug, name FROM person"))
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
    connection.execute("BEGIN")
    for rows in _reference_rows(data, names, now):
        for table, columns in REFERENCE_COLUMNS.items():
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            connection.executemany(sql, rows[table])
    connection.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    connection.execute("COMMIT")
    connection.close()
    seconds = time.perf_counter() - started
    # The database's files (not the seed's search index, which _seeded's load left beside it).
    size = sum(f.stat().st_size for f in WORK.glob(f"reference-{statements}.db*") if f.is_file())
    for done in WORK.glob(f"reference-{statements}.db*"):
        _remove(done)
    return {"seconds": seconds, "rows_per_s": statements / seconds, "bytes": size}


def reference_load_postgres(admin: str, statements: int) -> dict[str, float]:
    """PostgreSQL's reference, in the same run: the same rows COPYed (psycopg 3) into the
    same migrated schema (its indexes, the search column's GIN, foreign keys) in one
    transaction, then VACUUM (ANALYZE), as our load ends."""
    import psycopg

    name = f"reference_{statements}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = str(httpx.URL(admin).copy_with(path=f"/{name}"))
    _seeded(url)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(  # a data version of its own for the rows (app/history), as ours
            "SELECT set_config('treatykb.version', (SELECT version + 1 FROM data_version)::text, "
            "true)"
        )
        names = dict(conn.execute("SELECT slug, name FROM person").fetchall())
        now = time.strftime("%Y-%m-%d %H:%M:%S+00")
        with conn.cursor() as cursor:
            for rows in _reference_rows(WORK / f"statements-{statements}.ndjson", names, now):
                for table, columns in REFERENCE_COLUMNS.items():
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    seconds = time.perf_counter() - started
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    return {"seconds": seconds, "rows_per_s": statements / seconds,
            "bytes": size[0] if size else 0}  # fmt: skip


def _loading_file(url: str, statements: int) -> Path:
    return WORK / f"loading-{url.split(':')[0]}-{statements}.json"


def earlier_loading(url: str, statements: int) -> dict[str, float] | None:
    """The figures of the load that built a database this run reuses."""
    kept = _loading_file(url, statements)
    return {**json.loads(kept.read_text()), "earlier": True} if kept.exists() else None


def serve(
    command: list[str], port: int, env: dict[str, str], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["taskset", "-c", "0", *command], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server on port {port} did not start: {command}")


def wrk(
    url: str,
    duration: int,
    connections: int,
    headers: list[str] = (),
    template: str = "",
    words: Path | None = None,
) -> dict[str, float]:
    """wrk on CPU 1; with `template`, each request fills it with a random line of `words`
    and a page size (the varied workloads)."""
    extra = [arg for h in headers for arg in ("-H", h)]
    if template:
        script = WORK / "varied.lua"
        script.write_text(LUA)
        extra += ["-s", str(script)]
        os.environ["BENCH_WORDS"], os.environ["BENCH_TEMPLATE"] = str(words), template
    # A request slower than wrk's default 2 s would be dropped, not counted: wait for it.
    base = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "--latency",
            "--timeout", "60s", *extra]  # fmt: skip
    subprocess.run([*base, "-d2s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        [*base, f"-d{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50_ms": percentile("50"), "p99_ms": percentile("99"),
            "errors": sum(int(m.group(1)) for m in (errors, timeouts) if m)}  # fmt: skip


def deep_row(db: Path, offset: int) -> tuple[str, str]:
    """(said_on, id) of the last row before `offset` in the newest-first order."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select said_on, id from statement order by said_on desc, id desc limit 1 offset ?",
            (offset - 1,),
        ).fetchone()


def deep_cursor(row: tuple[str, str]) -> str:
    sys.path.insert(0, str(ROOT))
    from app.pagination import _encode
    from app.statements.service import NEWEST_FIRST

    return _encode(NEWEST_FIRST, list(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="also load and serve the same data on PostgreSQL (a database bench_<N> is made)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI: our service only; fail on an error answer, a timeout or a rate under --floor",
    )
    parser.add_argument("--floor", type=float, default=50.0)
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="a checkout of an earlier commit: its service is measured on the same SQLite "
        "file, in the same run, as the reference ('before' column)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"bench-{args.statements}.db"
    if args.rebuild or not db.exists():
        for stale in WORK.glob(f"bench-{args.statements}.db*"):
            _remove(stale)
        loading = load(f"sqlite:///{db}", args.statements)
    else:
        loading = earlier_loading(f"sqlite:///{db}", args.statements)
    results = run_workloads(db, args)
    partial = {"loading": loading, "results": results}
    (WORK / f"partial-{args.statements}.json").write_text(json.dumps(partial, indent=2))
    if args.postgres:
        url, pg_loading = postgres_database(args)
        results["postgres"] = serve_ours(url, db, args)
        results["postgres_loading"] = pg_loading  # type: ignore[assignment]
    report(args, loading, results)
    if args.smoke:
        smoke_check(results["ours"], args.floor)


RANGE = {"speaker": "sergei-lavrov", "since": "2000-01-01", "until": "2009-12-31"}


def workloads(db: Path, statements: int) -> dict[str, dict[str, str]]:
    """Each workload's URL on our service, Datasette (port 8102) and the ceiling: the
    same SQL on all three (bench/sql.py); Datasette's own row pages for by_id/detail."""
    # 10,000 pages of 50 deep (or half way, for a smaller run), through the cursor.
    said_on, last = deep_row(db, min(statements // 2, 500_000))
    middle = f"gen-{statements // 2:07d}"
    ds = f"/{db.stem}.json?"
    filtered = "&".join(f"{k}={v}" for k, v in RANGE.items())
    return {
        "by_id": {
            "ours": f"/v1/statements/{middle}",
            "datasette": f"/{db.stem}/statement/{middle}.json",
            "ceiling": f"/sql/by_id?id={middle}",
        },
        # A different statement each request, from more than are kept per data version.
        "by_id_varied": {
            "ours": "/v1/statements/%s",
            "datasette": f"/{db.stem}/statement/%s.json",
            "ceiling": "/sql/by_id?id=%s",
        },
        "treaty_detail": {
            "ours": "/v1/treaties/new-start",
            "datasette": f"/{db.stem}/treaty/new-start.json",
        },
        "list_treaty": {
            "ours": "/v1/statements?treaty=new-start&limit=50",
            "datasette": ds + sql("list_treaty", treaty="new-start"),
            "ceiling": "/sql/list_treaty?treaty=new-start",
        },
        # Newest 40-50 of a different treaty each request, with the total: a treaty's page.
        "treaty_varied": {
            "ours": "/v1/statements?treaty=%s&limit=%d",
            "datasette": ds + sql("list_treaty_varied").replace("%", "%%") + "&treaty=%s&n=%d",
            "ceiling": "/sql/list_treaty_varied?treaty=%s&n=%d",
        },
        # A treaty's page with its chart and menus: the four facets beside the page.
        "facets_varied": {"ours": "/v1/statements?treaty=%s&limit=%d&" + FACETS},
        # The statements matching a different word each request, in id order, with the
        # total; Datasette's own full-text search of the same index (`_search`).
        "q_varied": {
            "ours": "/v1/statements?q=%s&sort=id&limit=%d",
            "datasette": f"/{db.stem}/search_document.json?_search=%s&type=statement"
            "&_sort=key&_size=%d&_nocount=1",
            "ceiling": "/sql/q_varied?q=%s&n=%d",
        },
        "list_filtered": {
            "ours": f"/v1/statements?{filtered}&limit=50",
            "datasette": ds + sql("list_filtered", **RANGE),
            "ceiling": f"/sql/list_filtered?{filtered}",
        },
        # Newest first up to a different day each request (2,000 days x 11 page sizes): a
        # timeline scrolled to a date; pages kept per data version rarely help here.
        "list_varied": {
            "ours": "/v1/statements?until=%s&limit=%d",
            "datasette": ds + sql("list_varied").replace("%", "%%") + "&until=%s&n=%d",
            "ceiling": "/sql/list_varied?until=%s&n=%d",
        },
        "search": {
            "ours": "/v1/search?q=verification&limit=50",
            "datasette": ds + sql("search", q="verification", n="51"),
            "ceiling": "/sql/search?q=verification&n=51",
        },
        # A different word each request (2,000 words x 11 page sizes): what a search box
        # sends; results kept per data version rarely help here.
        "search_varied": {
            "ours": "/v1/search?q=%s&limit=%d",
            "datasette": ds + sql("search_varied").replace("%", "%%") + "&q=%s&n=%d",
            "ceiling": "/sql/search_varied?q=%s&n=%d",
        },
        "deep_page": {
            "ours": f"/v1/statements?limit=50&cursor={deep_cursor((said_on, last))}",
            "datasette": ds + sql("deep_page", said_on=said_on, id=last),
            "ceiling": f"/sql/deep_page?said_on={said_on}&id={last}",
        },
        "first_page": {
            "ours": "/v1/statements?limit=50",
            "datasette": ds + sql("first_page"),
            "ceiling": "/sql/first_page",
        },
    }


def measure(base: str, workload: str, path: str, args: argparse.Namespace) -> dict[str, float]:
    if "%s" in path:
        words = WORDS[workload](args.statements)
        figures = wrk(base + "/", args.duration, args.connections, template=path, words=words)
    else:
        figures = wrk(base + path, args.duration, args.connections)
    settle(base)
    return figures


def settle(base: str) -> None:
    """Wait until the server has worked off what wrk left queued (a slow workload leaves
    seconds of requests behind), so that the next figure, on any server on this core,
    is not that backlog's."""
    for _ in range(600):
        started = time.perf_counter()
        try:
            httpx.get(base + "/", timeout=120)
        except httpx.TransportError:
            return
        if time.perf_counter() - started < 0.05:
            return


UVICORN = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-server-header"]


def start_ours(url: str, port: int = 8101, **env: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TREATYKB_DATABASE_URL": url, **SERVER_ENV, **env}
    return serve([*UVICORN, "app.main:create_app", "--factory", "--port", str(port)], port, env)


def first_requests(base: str, db: Path | None = None) -> dict[str, Any]:
    """Each treaty's newest 50 with its total, asked once, one after the other, of a
    server that has answered nothing yet: the single cold request a treaty page sends.
    The SQLite file is read through once first, so that the figure is the service's
    (its caches empty) and not this machine's disk (what an earlier phase left in the
    page cache)."""
    if db is not None:
        with db.open("rb") as whole:
            while whole.read(1 << 24):
                pass
    times = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        # The process's own first request (imports, the statement compiled for this shape)
        # is not a treaty's: a treaty with no statements takes it.
        client.get("/v1/statements?treaty=no-such-treaty&limit=50").raise_for_status()
        for slug in treaty_slugs(0).read_text().split():
            started = time.perf_counter()
            response = client.get(f"/v1/statements?treaty={slug}&limit=50")
            times[slug] = (time.perf_counter() - started) * 1000
            response.raise_for_status()
    slowest = max(times, key=times.__getitem__)
    ordered = sorted(times.values())
    return {"slowest": slowest, "max_ms": times[slowest], "median_ms": ordered[len(ordered) // 2],
            "treaties": len(times)}  # fmt: skip


FACETS = "facet=treaty,speaker,country,said_on:month"
# One request each, four facets beside the page: no filter, one filter of each kind, and
# combinations of two and three (bench/generate.py: gen-treaty-01 is the largest
# generated treaty, sergei-lavrov a seed speaker of many statements).
FACET_CASES = {
    "none": "",
    "speaker": "speaker=sergei-lavrov",
    "speaker_rare": "speaker=gen-person-1999",
    "country": "country=RU",
    "countries": "country=RU,US",
    "during": "during=2015-03",
    "since": "since=2015-01-01",
    "since_mid_month": "since=2012-06-17",
    "until": "until=2012-06-17",
    "q": "q=verification",
    "treaty_speaker": "treaty=gen-treaty-01&speaker=sergei-lavrov",
    "treaty_range": "treaty=gen-treaty-01&since=2010-01-01&until=2012-12-31",
    "speaker_country_since": "speaker=sergei-lavrov&country=RU&since=2010-01-01",
    "two_treaties": "treaty=gen-treaty-01,gen-treaty-02",
}


def first_facets(base: str) -> dict[str, Any]:
    """Single requests for the four facets beside a page, each URL once, of the server
    with the response cache off: each treaty's (slowest and median) and FACET_CASES."""
    with httpx.Client(base_url=base, timeout=120) as client:

        def timed(query: str) -> float:
            started = time.perf_counter()
            client.get(f"/v1/statements?limit=50&{query}&{FACETS}").raise_for_status()
            return (time.perf_counter() - started) * 1000

        timed("treaty=no-such-treaty")  # the process's own first request
        treaties = {slug: timed(f"treaty={slug}") for slug in treaty_slugs(0).read_text().split()}
        cases = {name: timed(query) for name, query in FACET_CASES.items()}
    slowest = max(treaties, key=treaties.__getitem__)
    ordered = sorted(treaties.values())
    return {"treaty_slowest": slowest, "treaty_max_ms": treaties[slowest],
            "treaty_median_ms": ordered[len(ordered) // 2], "cases_ms": cases}  # fmt: skip


def ours_extra(db: Path, args: argparse.Namespace, *, with_304: bool = True) -> dict[str, Any]:
    """The 304 revalidation (unless measured in rounds, `revalidation`) and the CSV
    export, from our service on port 8101."""
    base, by_id = "http://127.0.0.1:8101", workloads(db, args.statements)["by_id"]["ours"]
    extra = {"csv_export": csv_export(base, min(args.statements, 100_000))}
    if with_304:
        # Read the validator while the server is idle: after a slow workload it has a queue.
        etag = httpx.get(base + by_id, timeout=120).headers["etag"]
        revalidate = [f"If-None-Match: {etag}"]
        extra["revalidate_304"] = wrk(base + by_id, args.duration, args.connections, revalidate)
    return extra


def revalidation(path: str, args: argparse.Namespace) -> list[dict[str, dict[str, float]]]:
    """The 304 on our service (port 8101) and on the bound (bench/bound.py, port 8104),
    and the ceiling's hello, one after the other, three times. Within minutes this
    machine's speed drifts by a third (the hello: 13,000-18,000 r/s): a ratio is taken
    within a round, and the round with the median ratio is the one reported."""
    urls = {"ours": "http://127.0.0.1:8101" + path, "bound": "http://127.0.0.1:8104" + path}
    if args.before:
        urls["before"] = "http://127.0.0.1:8106" + path
    # Read the validators while the servers are idle: after a slow workload one has a queue.
    tags = {name: httpx.get(url, timeout=120).headers["etag"] for name, url in urls.items()}
    rounds = []
    for _ in range(3):
        one = {"hello": wrk("http://127.0.0.1:8103/", args.duration, args.connections)}
        for name, url in urls.items():
            revalidate = [f"If-None-Match: {tags[name]}"]
            one[name] = wrk(url, args.duration, args.connections, revalidate)
        rounds.append(one)
    return rounds


def serve_ours(url: str, db: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Our service alone on `url` (PostgreSQL): every workload, the 304, the CSV export."""
    server = start_ours(url)
    cold = start_ours(url, 8105, TREATYKB_RESPONSE_CACHE="false")
    try:
        first = {"first_requests": first_requests("http://127.0.0.1:8101"),
                 "first_facets": first_facets("http://127.0.0.1:8105")}  # fmt: skip
        uncached = {
            name: measure("http://127.0.0.1:8105", name, urls["ours"], args)
            for name, urls in workloads(db, args.statements).items()
            if name in COLD and not args.smoke
        }
        results = {
            name: measure("http://127.0.0.1:8101", name, urls["ours"], args)
            for name, urls in workloads(db, args.statements).items()
        }
        return results | ours_extra(db, args) | first | {"uncached": uncached}  # type: ignore[dict-item]
    finally:
        server.terminate()
        cold.terminate()


def postgres_database(args: argparse.Namespace) -> tuple[str, dict[str, float] | None]:
    """bench_<N> on the PostgreSQL server, loaded through our loader unless it exists."""
    admin = httpx.URL(args.postgres)
    name = f"bench_{args.statements}"
    url = str(admin.copy_with(path=f"/{name}"))
    import psycopg

    with psycopg.connect(args.postgres, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not args.rebuild:
            return url, earlier_loading(url, args.statements)
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url, load(url, args.statements, admin=args.postgres)


SERVER_ENV = {
    # One load generator is one client address: the limiter still counts every request,
    # with a limit it never reaches. Logging stays on (to /dev/null).
    "TREATYKB_RATE_LIMIT_ANONYMOUS": "1000000000/60",
}


def run_workloads(db: Path, args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """Our service, Datasette and the ceiling, all up at once on CPU 0; each workload is
    measured on the three in turn, so a slower minute of a shared machine hits all three."""
    results: dict[str, dict[str, dict[str, float]]] = {"ours": {}, "datasette": {}, "ceiling": {}}
    if args.smoke:
        results["ours"] = serve_ours(f"sqlite:///{db}", db, args)
        return results
    env = {**os.environ, "BENCH_DB": str(db)}
    datasette = shutil.which("datasette") or str(Path(sys.executable).parent / "datasette")
    # Datasette's time limit would cut the slow queries off; it gets all the time ours has.
    limits = ["--setting", "sql_time_limit_ms", "30000", "--setting", "default_page_size", "50"]
    ports = {"ours": 8101, "datasette": 8102, "ceiling": 8103, "before": 8106}
    # Datasette's `_search` over the same FTS5 index our search reads.
    metadata = WORK / "datasette.json"
    fts = {"fts_table": "search_fts", "fts_pk": "id"}
    metadata.write_text(json.dumps({"databases": {db.stem: {"tables": {"search_document": fts}}}}))
    limits += ["--metadata", str(metadata)]
    servers = [start_ours(f"sqlite:///{db}")]
    try:
        results["ours"]["first_requests"] = first_requests("http://127.0.0.1:8101", db)
        servers.append(start_ours(f"sqlite:///{db}", 8105, TREATYKB_RESPONSE_CACHE="false"))
        results["ours"]["first_facets"] = first_facets("http://127.0.0.1:8105")
        servers.append(serve([datasette, str(db), "--port", "8102", *limits], 8102, env))
        if args.before:  # the earlier commit's service, as it shipped, on the same file
            before = {**env, "TREATYKB_DATABASE_URL": f"sqlite:///{db}", **SERVER_ENV}
            command = [*UVICORN, "app.main:create_app", "--factory", "--port", "8106"]
            servers.append(serve(command, 8106, before, cwd=args.before))
            results["before"] = {}
        servers.append(serve([*UVICORN, "bench.ceiling:app", "--port", "8103"], 8103, env))
        results["uncached"] = {}
        for workload, urls in workloads(db, args.statements).items():
            for name, path in urls.items():
                base = f"http://127.0.0.1:{ports[name]}"
                results[name][workload] = measure(base, workload, path, args)
            if args.before:
                before_url = "http://127.0.0.1:8106"
                results["before"][workload] = measure(before_url, workload, urls["ours"], args)
            if workload in COLD:
                cold = measure("http://127.0.0.1:8105", workload, urls["ours"], args)
                results["uncached"][workload] = cold
        results["ours"] |= ours_extra(db, args, with_304=False)
        servers.append(serve([*UVICORN, "bench.bound:app", "--port", "8104"], 8104, env))
        rounds = revalidation(workloads(db, args.statements)["by_id"]["ours"], args)
        middle = sorted(rounds, key=lambda one: one["ours"]["rps"] / one["hello"]["rps"])[1]
        results["ours"]["revalidate_304"] = middle["ours"]
        results["ceiling"]["hello"] = middle["hello"]
        results["bound"] = {"revalidate_304": middle["bound"]}
        if args.before:
            results["before"]["revalidate_304"] = middle["before"]
        results["revalidation_rounds"] = [
            {name: one[name]["rps"] for name in one} for one in rounds
        ]  # type: ignore[assignment]
    finally:
        for server in servers:
            server.terminate()
    return results


def csv_export(base: str, rows: int) -> dict[str, float]:
    """Stream `rows` statements as CSV with curl on the load generator's core (a Python
    client on an unpinned core competes with the server and measures itself); twice, as
    the first export reads pages no workload touched (at 1M, from disk) and the second
    finds them cached."""
    target = WORK / "export.csv"
    url = f"{base}/v1/statements?format=csv&limit={rows}"
    rates = []
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(["taskset", "-c", "1", "curl", "-sf", "-o", str(target), url], check=True)
        seconds = time.perf_counter() - started
        with target.open("rb") as body:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: body.read(1 << 20), b""))
        rates.append((lines - 1) / seconds)
    target.unlink()
    return {"rows": lines - 1, "rows_per_s": rates[1], "first_rows_per_s": rates[0]}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def report(args: argparse.Namespace, loading: dict[str, float] | None, results: Any) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {
        "statements": args.statements,
        "duration_s": args.duration,
        "connections": args.connections,
        "loading": loading,
        "results": results,
    }
    (RESULTS / f"{stamp}-{args.statements}.json").write_text(json.dumps(payload, indent=2))
    hello = results["ceiling"].get("hello", {}).get("rps")
    before = results.get("before", {})
    postgres = results.get("postgres", {})
    say(f"\n{args.statements:,} statements, one server core, wrk -c{args.connections}, "
        f"{args.duration} s per workload; x = ours / Datasette, % = ours / the ceiling running "
        "the same SQL (the 304: / the ceiling's hello)")  # fmt: skip
    say(
        "cold = the same workload with the response cache off (TREATYKB_RESPONSE_CACHE=false);"
        " x and % of the varied workloads compare the cold figure"
    )
    head = ("workload", 15), ("ours r/s", -9), ("p50 ms", -8), ("p99 ms", -8), \
        ("cold r/s", -9), ("cold p50", -9), ("datasette", -10), ("x", -6), ("ceiling", -9), \
        ("%", -7), ("pg r/s", -8), ("pg cold", -8), ("pg/sqlite", -10), ("before", -8), \
        ("failed", -8)  # fmt: skip
    say("".join(f"{t:<{w}}" if w > 0 else f"{t:>{-w}}" for t, w in head))
    for name, ours in results["ours"].items():
        if "rps" not in ours:
            continue
        other = results["datasette"].get(name, {})
        top = results["ceiling"].get("hello" if name == "revalidate_304" else name, {})
        pg = postgres.get(name, {})
        cold = results.get("uncached", {}).get(name, {})
        pg_cold = postgres.get("uncached", {}).get(name, {})
        errors = ours["errors"] + other.get("errors", 0) + pg.get("errors", 0)
        errors += cold.get("errors", 0) + pg_cold.get("errors", 0)
        # An earlier commit may not serve a newer workload (a 422 each): its column says "-".
        then = before.get(name, {})
        then_rps = (
            f"{then['rps']:>8.0f}" if then.get("rps") and not then.get("errors") else f"{'-':>8}"
        )
        mine = cold.get("rps") or ours["rps"]  # what a reader of varied URLs gets

        def ratio(a: float | None, b: float | None, fmt: str = "{:.1f}") -> str:
            return fmt.format(a / b) if a and b else "-"

        say(f"{name:<15}{ours['rps']:>9.0f}{ours['p50_ms']:>8.1f}{ours['p99_ms']:>8.1f}"
            f"{cold.get('rps', 0):>9.0f}{cold.get('p50_ms', 0):>9.1f}"
            f"{other.get('rps', 0):>10.0f}{ratio(mine, other.get('rps')):>6}"
            f"{top.get('rps', 0):>9.0f}{ratio(mine, top.get('rps'), '{:.0%}'):>7}"
            f"{pg.get('rps', 0):>8.0f}{pg_cold.get('rps', 0):>8.0f}"
            f"{ratio(pg_cold.get('rps') or pg.get('rps'), mine, '{:.2f}'):>10}"
            f"{then_rps}{errors:>8}")  # fmt: skip
    for label, where in (("SQLite", results["ours"]), ("PostgreSQL", postgres)):
        first = where.get("first_requests")
        if first:
            say(f"First request of each of {first['treaties']} treaties' newest 50 ({label}, "
                f"cache cold): slowest {first['max_ms']:.1f} ms ({first['slowest']}), "
                f"median {first['median_ms']:.1f} ms")  # fmt: skip
        facets = where.get("first_facets")
        if facets:
            cases = ", ".join(f"{k} {v:.0f}" for k, v in facets["cases_ms"].items())
            say(f"Four facets beside a page, single requests, response cache off ({label}): "
                f"each treaty's slowest {facets['treaty_max_ms']:.1f} ms "
                f"({facets['treaty_slowest']}), median {facets['treaty_median_ms']:.1f} ms; "
                f"ms by filters: {cases}")  # fmt: skip
    if hello:
        say(f"{'hello (ceiling)':<15}{hello:>9.0f}")
    bound = results.get("bound", {}).get("revalidate_304")
    if bound:
        say(f"{'304 (bound)':<15}{bound['rps']:>9.0f}{bound['p50_ms']:>8.1f}{bound['p99_ms']:>8.1f}"
            f"{'':>16}{bound['rps'] / hello:>16.0%}")  # fmt: skip
        rounds = [
            f"{r['ours']:,.0f} / {r['bound']:,.0f} / {r['hello']:,.0f} "
            f"({r['ours'] / r['hello']:.0%})"
            + (
                f", before {r['before']:,.0f} ({r['before'] / r['hello']:.0%})"
                if "before" in r
                else ""
            )
            for r in results["revalidation_rounds"]
        ]
        say("304 rounds, ours / bound / hello r/s (ours / hello): " + "; ".join(rounds))
    export = results["ours"]["csv_export"]
    say(
        f"CSV export: {export['rows']:,} rows at {export['rows_per_s']:,.0f} rows/s "
        f"(the first time: {export.get('first_rows_per_s', 0):,.0f})"
        + (f"; PostgreSQL {postgres['csv_export']['rows_per_s']:,.0f}" if postgres else "")
    )
    for label, load in (("SQLite", loading), ("PostgreSQL", results.get("postgres_loading"))):
        if load:
            when = f" (the load that built it, {load['at']})" if load.get("earlier") else ""
            say(f"Loading on {label}: {load['seconds']:.1f} s ({load['rows_per_s']:,.0f} rows/s), "
                f"peak {load['peak_mib']:.0f} MiB{when}")  # fmt: skip
            if "reference" in load:
                ref = load["reference"]["seconds"]
                how = "stdlib executemany" if label == "SQLite" else "COPY"
                say(f"  {how} reference: {ref:.1f} s; ours / reference "
                    f"{load['seconds'] / ref:.2f}x")  # fmt: skip
            reference: Any = load.get("reference", {})
            if "bytes" in load and "bytes" in reference:
                ours, theirs = load["bytes"], reference["bytes"]
                say(f"  database {ours / 2**20:,.0f} MiB, reference {theirs / 2**20:,.0f} MiB: "
                    f"{ours / theirs:.2f}x")  # fmt: skip


def smoke_check(ours: dict[str, dict[str, float]], floor: float) -> None:
    """CI's guard against gross regressions: no errors, no workload below the floor."""
    bad = [
        f"{name}: {r['rps']:.0f} r/s, {r['errors']} failed (non-2xx/3xx or timed out)"
        for name, r in ours.items()
        if "rps" in r and (r["errors"] or r["rps"] < floor)
    ]
    if bad:
        raise SystemExit("benchmark smoke test failed: " + "; ".join(bad))
    say(f"benchmark smoke test passed: every workload above {floor:.0f} r/s, no errors")


if __name__ == "__main__":
    main()
