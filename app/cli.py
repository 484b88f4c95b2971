"""The `treatykb` command: serve, db upgrade, load, export, search rebuild, token."""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from app import bundled_path
from app import models as m
from app.config import get_settings
from app.curation import tokens
from app.db import exclusive, make_engine
from app.errors import InvalidParameter
from app.history import versions
from app.importing.export import export_all
from app.importing.loader import Counts, LoadError
from app.importing.progress import Bars, Lines, Progress
from app.importing.writer import load_paths
from app.meta.service import bump_version
from app.migrate import upgrade
from app.search import engine as search_engine
from app.statements import tallies


def say(text: str, *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _print_counts(counts: dict[str, Counts]) -> None:
    say(f"{'resource':<14}{'created':>9}{'updated':>9}{'unchanged':>11}")
    for name, c in counts.items():
        say(f"{name:<14}{c.created:>9}{c.updated:>9}{c.unchanged:>11}")


def _progress(quiet: bool) -> Progress:
    """Bars on a terminal, a line every few seconds otherwise (a log), nothing if quiet."""
    if quiet:
        return Progress()
    return Bars() if sys.stderr.isatty() else Lines(sys.stderr)


def _load(engine: Engine, paths: list[Path], workers: int = 1, quiet: bool = True) -> int:
    progress = _progress(quiet)
    try:
        counts = load_paths(engine, paths, progress=progress, workers=workers)
    except LoadError as exc:
        progress.finish()
        say(f"Nothing was loaded: {len(exc.problems)} problem(s).", err=True)
        for problem in exc.problems:
            say(f"  {problem}", err=True)
        return 1
    # The search index beside the database (SQLite: the server's own) brought up to date
    # here, in the load's time, rather than at the first search.
    search_engine.for_settings(get_settings()).current(engine, progress=progress)
    progress.finish()
    _print_counts(counts)
    say(f"Recorded as import {counts.import_id} (GET /v1/imports).")
    if not quiet:
        say(progress.summary(), err=True)
    return 0


def _is_empty(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.execute(select(col(m.Treaty.slug)).limit(1)).first() is None


def prepare(engine: Engine, *, seed: bool) -> int:
    """Migrate, then load the bundled seed data into an empty database.

    On PostgreSQL an advisory lock makes this safe to run from several instances at once:
    one migrates and seeds, the others wait and then find nothing to do.
    """
    with exclusive(engine):
        upgrade(engine)
        if seed and _is_empty(engine):
            return _load(engine, [bundled_path("seed_data")])
    return 0


def serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    if not args.no_migrate and prepare(engine, seed=True) != 0:
        return 1
    engine.dispose()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        server_header=False,
        proxy_headers=True,
        access_log=not settings.log_json,  # the app writes its own JSON access lines
        log_config=None if settings.log_json else uvicorn.config.LOGGING_CONFIG,
    )
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    if prepare(make_engine(get_settings().database_url), seed=args.seed) != 0:
        return 1
    say("Database is at the newest schema.")
    return 0


def db_tallies(_: argparse.Namespace) -> int:
    """Rebuild the statement facet counts from the tables (kept by every write; this is
    for a database changed behind the service's back), and bump the data version."""
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        tallies.rebuild(session.connection())
        bump_version(session)
    say(f"Facet counts rebuilt in {time.perf_counter() - started:.1f} s.")
    return 0


def load(args: argparse.Namespace) -> int:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    # A large NDJSON file is validated on every core this process may use.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    paths = [Path(p) for p in args.paths]
    return _load(engine, paths, workers=cores or 1, quiet=args.quiet)


def export(args: argparse.Namespace) -> int:
    counts = export_all(make_engine(get_settings().database_url), Path(args.directory))
    for name, count in counts.items():
        say(f"{name:<14}{count:>7}")
    return 0


def token_create(args: argparse.Namespace) -> int:
    with Session(_migrated()) as session, session.begin():
        if any(t.name == args.name for t in tokens.list_tokens(session)):
            say(f"A token named {args.name!r} exists; revoke it or pick another name.", err=True)
            return 1
        secret = tokens.create_token(session, name=args.name, role=tokens.Role(args.role))
    say(secret)
    say(f"Shown once. Role: {args.role}. Send it as: Authorization: Bearer <token>", err=True)
    return 0


def token_list(_args: argparse.Namespace) -> int:
    with Session(_migrated()) as session:
        for t in tokens.list_tokens(session):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            say(f"{t.name:<24}{t.role:<8}tkb_{t.prefix}_…  {state}")
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    with Session(_migrated()) as session, session.begin():
        revoked = tokens.revoke_token(session, name=args.name)
    say("revoked" if revoked else f"No active token named {args.name!r}.")
    return 0 if revoked else 1


def search_rebuild(_: argparse.Namespace) -> int:
    """The search index deleted and built again from the database's search documents."""
    settings = get_settings()
    engine = _migrated()
    index = search_engine.for_settings(settings)
    progress = _progress(quiet=False)
    index.rebuild(engine, progress)
    progress.finish()
    say(f"Search index rebuilt in {index.directory}: {index.searcher().num_docs} documents.")
    say(progress.summary(), err=True)
    return 0


def history_prune(args: argparse.Namespace) -> int:
    """Drop the history before a version: `as_of` older than it answers 404 from now on."""
    try:
        removed = versions.prune(_migrated(), args.before)
    except InvalidParameter as error:
        say(error.detail, err=True)
        return 1
    say(f"Pruned {removed} history rows; versions before {args.before} can no longer be read.")
    say("Every citation of those versions (as_of) is broken from now on.", err=True)
    return 0


def _migrated() -> Engine:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    return engine


def _db_commands(db: argparse.ArgumentParser) -> None:
    db_commands = db.add_subparsers(dest="db_command", required=True)
    up = db_commands.add_parser("upgrade", help="apply pending migrations")
    up.add_argument("--seed", action="store_true", help="then load the seed data if empty")
    up.set_defaults(func=db_upgrade)
    rebuild = db_commands.add_parser("tallies", help="rebuild the statement facet counts")
    rebuild.set_defaults(func=db_tallies)


def _history_commands(history: argparse.ArgumentParser) -> None:
    history_commands = history.add_subparsers(dest="history_command", required=True)
    pruner = history_commands.add_parser(
        "prune",
        help="forget the versions before one (breaks every citation of them: as_of gets 404)",
    )
    pruner.add_argument("--before", type=int, required=True, help="the oldest version to keep")
    pruner.set_defaults(func=history_prune)


def _serve_command(run: argparse.ArgumentParser) -> None:
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1)
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="serve only (when a separate `treatykb db upgrade --seed` prepares the database)",
    )
    run.set_defaults(func=serve)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="treatykb",
        description="Arms-control treaty knowledge base. The database is TREATYKB_DATABASE_URL "
        "(default: sqlite:///treatykb.db in the working directory).",
    )
    commands = root.add_subparsers(dest="command", required=True)
    _serve_command(commands.add_parser("serve", help="migrate, load the seed data if empty, "
                                       "and serve"))  # fmt: skip
    _db_commands(commands.add_parser("db", help="database schema"))
    _history_commands(commands.add_parser("history", help="past data versions (as_of)"))
    loader = commands.add_parser("load", help="validate and load YAML files, all or nothing")
    loader.add_argument("paths", nargs="+", help="files like statements.yaml, or directories")
    loader.add_argument("--quiet", action="store_true", help="no progress, only the counts")
    loader.set_defaults(func=load)
    exporter = commands.add_parser("export", help="write every record as YAML seed files")
    exporter.add_argument("directory")
    exporter.set_defaults(func=export)
    found = commands.add_parser("search", help="the search index")
    found_commands = found.add_subparsers(dest="search_command", required=True)
    rebuild = found_commands.add_parser("rebuild", help="delete the index and build it again")
    rebuild.set_defaults(func=search_rebuild)
    token = commands.add_parser("token", help="API tokens for curators")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in tokens.Role], default="editor")
    create.set_defaults(func=token_create)
    token_commands.add_parser("list", help="list tokens").set_defaults(func=token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("--name", required=True)
    revoke.set_defaults(func=token_revoke)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
