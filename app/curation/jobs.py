"""Imports run in the background: POST /v1/imports of a bundle over IMPORT_ASYNC_BYTES, or
of any bundle sent with `Prefer: respond-async`, is answered 202 at once with the job's
URL; the job validates and writes the bundle exactly as an import answered in one response
does (all or nothing), and GET /v1/imports/{id} says where it is: its phase (validate,
write, index, statistics), how much of that is done, and at the end the counts, or the
problems that stopped it with nothing written.

The process running a job keeps its progress; on PostgreSQL it is also written to the
job's row once a second, so that every instance shows it. On SQLite the row is written
when the job starts and ends (the database's one writer is the load in between).
"""

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import IO, Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from app import models as m
from app.curation.service import problems_error
from app.db import is_sqlite
from app.errors import AppError
from app.importing.events import Loaded, counts_json
from app.importing.loader import LoadError
from app.importing.progress import Progress

IMPORT_ASYNC_BYTES = 8 << 20  # a bundle this large is loaded in the background
Load = Callable[[IO[bytes], Progress], Loaded]  # a body -> counts, or raises


class JobProgress(Progress):
    """A job's progress: kept here, and on PostgreSQL in its row once a second."""

    def __init__(self, engine: Engine, job_id: str) -> None:
        super().__init__()
        self.engine, self.job_id, self.saved = engine, job_id, 0.0
        self.shared = not is_sqlite(engine)

    def began(self) -> None:
        self._save(force=True)

    def moved(self) -> None:
        self._save()

    def _save(self, force: bool = False) -> None:
        if not self.shared or (not force and time.perf_counter() - self.saved < 1.0):
            return
        self.saved = time.perf_counter()
        _update(self.engine, self.job_id, phase=self.name, done=self.done, total=self.total,
                unit=self.unit)  # fmt: skip


_RUNNING: dict[str, JobProgress] = {}  # the jobs this process runs, by id


def _update(engine: Engine, job_id: str, **values: Any) -> None:
    with Session(engine) as session:
        session.execute(update(m.ImportJob).where(col(m.ImportJob.id) == job_id).values(**values))
        session.commit()


def start(engine: Engine, body: IO[bytes], actor: str, dry_run: bool, load: Load) -> m.ImportJob:
    """The job's row, written; then `load` of the body in a thread of its own, which
    closes the body when done."""
    job = m.ImportJob(id=uuid.uuid4().hex, actor=actor, dry_run=dry_run, state="running",
                      created_at=dt.datetime.now(dt.UTC))  # fmt: skip
    with Session(engine) as session:
        session.add(job)
        session.commit()
        session.refresh(job)
        session.expunge(job)
    progress = _RUNNING[job.id] = JobProgress(engine, job.id)
    threading.Thread(
        target=_run, args=(engine, job.id, body, load, progress), name=f"import-{job.id}"
    ).start()
    return job


def _run(engine: Engine, job_id: str, body: IO[bytes], load: Load, progress: JobProgress) -> None:
    ended: dict[str, Any] = {"state": "failed"}
    try:
        loaded = load(body, progress)
        ended = {"state": "done", "counts": counts_json(loaded), "import_id": loaded.import_id}
    except (LoadError, AppError) as exc:  # as the 422 of an import in one response says it
        error = problems_error(exc) if isinstance(exc, LoadError) else exc
        ended["detail"] = error.detail
        ended["errors"] = json.dumps(error.errors) if error.errors else None
    except Exception as exc:
        ended["detail"] = f"The import failed: {type(exc).__name__}: {exc}"
    finally:
        body.close()
    try:
        phase = progress.name  # where it ended (or failed)
        progress.finish()
        _update(engine, job_id, phase=phase, done=progress.done, total=progress.total,
                unit=progress.unit, finished_at=dt.datetime.now(dt.UTC), **ended)  # fmt: skip
    finally:
        _RUNNING.pop(job_id, None)


def current(session: Session, job_id: str) -> dict[str, Any] | None:
    """The job as GET /v1/imports/{id} gives it, or None when there is none."""
    job = session.get(m.ImportJob, job_id)
    if job is None:
        return None
    answer = job.model_dump()
    running = _RUNNING.get(job_id)
    if running is not None and job.state == "running":
        answer |= {"phase": running.name, "done": running.done, "total": running.total,
                   "unit": running.unit}  # fmt: skip
    for field in ("counts", "errors"):
        answer[field] = json.loads(answer[field]) if answer[field] else None
    return answer
