"""Issue 26's options for ranked search, measured side by side in one run on the
benchmark's databases (`python -m bench.run` builds them): each query's top 10 and its
time, single requests, one after another, on one core.

    python -m bench.search_options --statements 1000000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Options: the service's search as it is (`app.search.service.search`: every match scored
and sorted, every match counted) on SQLite and PostgreSQL; FTS5's own `ORDER BY rank`;
PostgreSQL's RUM index ordering by distance from the index; an embedded Tantivy index
(block-max WAND top-k, no count, and with its exact count). Writes
bench/results/search-options-<time>-<statements>.json and prints the table.
"""

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generate import _vocabulary
from bench.run import RESULTS, WORK, say

TOP = 10
ISSUE_QUERIES = ['"arms control"', "arms control", "verif*", "treaty", "missile",
                 "treaty OR missile", "world -treaty", "state"]  # fmt: skip


def queries() -> list[str]:
    """The issue's queries, the corpus's 20 commonest words, 20 two-word queries built
    from them, and 10 prefixes as typed (a word's first four letters, then `*`)."""
    words = _vocabulary(random.Random(2020))[0][:20]
    rng = random.Random(26)
    pairs = [" ".join(rng.sample(words, 2)) for _ in range(20)]
    prefixes = [word[:4] + "*" for word in words[:10]]
    return ISSUE_QUERIES + words + pairs + prefixes


Run = Callable[[str], tuple[list[int], int | None]]  # q -> top ids, count (if counted)


def current(url: str) -> Run:
    """The service's own search function, in process, no response cache."""
    from sqlmodel import Session

    from app.db import make_engine
    from app.search.engine import SearchEngine, default_directory
    from app.search.service import SearchFilters, search

    engine = make_engine(url)
    index = SearchEngine(default_directory(url))  # since issue 26, the service's Tantivy

    def run(q: str) -> tuple[list[int], int | None]:
        with Session(engine) as session:
            hits, total, _ = search(session, index, q, SearchFilters(), limit=TOP, cursor=None)
            keys = [(h.type, h.key) for h in hits]
        return [hash(k) for k in keys], total

    return run


def fts5_rank(db: Path) -> Run:
    """FTS5's `ORDER BY rank` with the service's column weights, and no count."""
    from app.search.query import parse, to_fts5

    connection = sqlite3.connect(db)
    sql = ("SELECT d.type, d.key FROM search_fts JOIN search_document d ON d.id = search_fts.rowid "
           "WHERE search_fts MATCH ? AND rank MATCH 'bm25(10.0, 5.0, 2.0)' "
           f"ORDER BY rank LIMIT {TOP}")  # fmt: skip

    def run(q: str) -> tuple[list[int], int | None]:
        rows = connection.execute(sql, (to_fts5(parse(q)),)).fetchall()
        return [hash(tuple(r)) for r in rows], None

    return run


def rum(url: str) -> Run:
    """PostgreSQL's RUM index over the documents' tsvector, ordered by `<=>` from it."""
    import psycopg

    from app.search.query import parse, to_tsquery

    connection = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
    connection.execute("CREATE EXTENSION IF NOT EXISTS rum")
    made = connection.execute(
        "SELECT 1 FROM pg_indexes WHERE indexname = 'bench_search_document_rum'"
    ).fetchone()
    if not made:
        started = time.perf_counter()
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("CREATE INDEX bench_search_document_rum ON search_document "
                           "USING rum (tsv rum_tsvector_ops)")  # fmt: skip
        say(f"RUM index built in {time.perf_counter() - started:.1f} s")

    from sqlalchemy import Float, literal_column, select

    from app.db import make_engine
    from app.search.service import DOC

    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tsv = literal_column("search_document.tsv")

    def run(q: str) -> tuple[list[int], int | None]:
        tsquery = to_tsquery(parse(q))
        distance = tsv.op("<=>", return_type=Float())(tsquery)
        query = select(DOC.c.type, DOC.c.key).where(tsv.op("@@")(tsquery))
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(distance).limit(TOP)).all()
        return [hash(tuple(r)) for r in rows], None

    return run


def tantivy_index(db: Path, directory: Path, limit: int | None = None) -> Any:
    """A Tantivy index of the documents (title, body and extra, English stems), built
    from the SQLite database; `limit` documents only, for the flatness comparison."""
    import tantivy

    schema = tantivy.SchemaBuilder()
    schema.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in ("title", "body", "extra"):
        schema.add_text_field(name, tokenizer_name="en_stem")
    built = schema.build()
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    index = tantivy.Index(built, path=str(directory))
    started = time.perf_counter()
    writer = index.writer(heap_size=256 << 20, num_threads=2)
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT id, coalesce(title, ''), coalesce(body, ''), coalesce(extra, '') "
        "FROM search_document ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
    )
    for doc_id, title, body, extra in rows:
        writer.add_document(tantivy.Document(id=doc_id, title=title, body=body, extra=extra))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in directory.iterdir())
    return index, {"seconds": seconds, "bytes": size}


def tantivy_query(index: Any, q: str) -> Any:
    """Our query language as Tantivy's: each group a MUST of its terms' SHOULD, each
    exclusion a MUST_NOT; title weighted 10, body 5, extra 2 as in FTS5's bm25()."""
    import tantivy

    from app.search.query import Term, parse

    boosts = {"title": 10.0, "body": 5.0, "extra": 2.0}

    def term(t: Term) -> Any:
        if t.prefix:
            either = [(tantivy.Occur.Should, tantivy.Query.boost_query(
                tantivy.Query.regex_query(index.schema, f, t.words[0] + ".*"), b))
                for f, b in boosts.items()]  # fmt: skip
            return tantivy.Query.boolean_query(either)
        text = " ".join(t.words)
        return index.parse_query(f'"{text}"' if len(t.words) > 1 else text, list(boosts),
                                 field_boosts=boosts)  # fmt: skip

    parsed = parse(q)
    clauses = []
    for group in parsed.groups:
        either = [(tantivy.Occur.Should, term(t)) for t in group]
        clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(either)))
    clauses += [(tantivy.Occur.MustNot, term(t)) for t in parsed.excluded]
    return tantivy.Query.boolean_query(clauses)


def tantivy_run(index: Any, db: Path, *, count: bool) -> Run:
    connection = sqlite3.connect(db)

    def run(q: str) -> tuple[list[int], int | None]:
        searcher = index.searcher()
        found = searcher.search(tantivy_query(index, q), TOP, count=count)
        ids = [searcher.doc(address)["id"][0] for _, address in found.hits]
        marks = ",".join("?" * len(ids))
        found_keys = connection.execute(
            f"SELECT id, type, key FROM search_document WHERE id IN ({marks})", ids
        )
        keys = {row[0]: (row[1], row[2]) for row in found_keys}
        return [hash(keys[i]) for i in ids], found.count if count else None

    return run


def timed(run: Run, q: str, repeat: int = 3) -> tuple[list[int], int | None, float, float]:
    """Top ids, count, the first call's ms and the best of `repeat` more."""
    started = time.perf_counter()
    ids, count = run(q)
    first = (time.perf_counter() - started) * 1000
    best = first
    for _ in range(repeat):
        started = time.perf_counter()
        run(q)
        best = min(best, (time.perf_counter() - started) * 1000)
    return ids, count, first, best


def summary(rows: list[dict[str, Any]], option: str, which: slice) -> dict[str, float]:
    firsts = sorted(r[option]["first_ms"] for r in rows[which])
    p99 = firsts[min(len(firsts) - 1, round(0.99 * (len(firsts) - 1)))]
    return {"p50": statistics.median(firsts), "p99": p99, "max": firsts[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--small", type=int, default=10_000, help="documents, for flatness")
    args = parser.parse_args()
    db = WORK / f"bench-{args.statements}.db"
    big, built = tantivy_index(db, WORK / f"tantivy-{args.statements}")
    small, _ = tantivy_index(db, WORK / "tantivy-small", limit=args.small)
    options: dict[str, Run] = {
        "sqlite_current": current(f"sqlite:///{db}"),
        "sqlite_fts5_rank": fts5_rank(db),
        "tantivy_top10": tantivy_run(big, db, count=False),
        "tantivy_counted": tantivy_run(big, db, count=True),
        "tantivy_top10_small": tantivy_run(small, db, count=False),
    }
    if args.postgres:
        import httpx

        url = str(httpx.URL(args.postgres).copy_with(path=f"/bench_{args.statements}"))
        options["postgres_current"] = current(url.replace("postgresql://", "postgresql+psycopg://"))
        options["postgres_rum"] = rum(url)
    rows = []
    for q in queries():
        row: dict[str, Any] = {"q": q}
        for name, run in options.items():
            ids, count, first, best = timed(run, q)
            row[name] = {"first_ms": round(first, 2), "best_ms": round(best, 2), "count": count,
                         "top": ids}  # fmt: skip
        reference = row["sqlite_current"]["top"]
        for name in options:
            row[name]["same_top"] = len(set(row[name]["top"]) & set(reference))
        rows.append(row)
        say(q.ljust(24) + " ".join(f"{n}={row[n]['first_ms']:.1f}" for n in options))
    words = slice(len(ISSUE_QUERIES), len(ISSUE_QUERIES) + 40)  # the words and the pairs
    result = {
        "statements": args.statements,
        "tantivy_build": built,
        "rows": [
            {
                k: ({kk: vv for kk, vv in v.items() if kk != "top"} if isinstance(v, dict) else v)
                for k, v in r.items()
            }
            for r in rows
        ],  # fmt: skip
        "summary": {name: summary(rows, name, words) for name in options},
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"search-options-{stamp}-{args.statements}.json"
    out.write_text(json.dumps(result, indent=1))
    say(json.dumps(result["summary"], indent=1))
    say(f"tantivy index: {built}")
    say(str(out))


if __name__ == "__main__":
    main()
