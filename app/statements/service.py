"""All the SQL for statements: each list is a plan of the one read spec (spec.py)."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.pagination import PageParams, Slice, Sort, fetch_page
from app.reads.spec import Given, Plan
from app.statements import read
from app.statements.spec import STATEMENTS

sort_statements = STATEMENTS.sorts
NEWEST_FIRST = sort_statements.default


def plan(given: Given, sort: Sort = NEWEST_FIRST) -> Plan:
    return STATEMENTS.plan(given, sort)


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Statement.speaker),  # type: ignore[arg-type]
        selectinload(m.Statement.country),  # type: ignore[arg-type]
        selectinload(m.Statement.article),  # type: ignore[arg-type]
        selectinload(m.Statement.treaties),  # type: ignore[arg-type]
        selectinload(m.Statement.sources),  # type: ignore[arg-type]
    )


def list_statements(session: Session, given: Given, page: PageParams) -> Slice:
    """A page of statements as ORM objects, newest first (an article's statements)."""
    chosen = plan(given)
    return fetch_page(session, statements_query(session, chosen), chosen.sort, page)


def statement_rows(session: Session, chosen: Plan) -> Select[Any]:
    """The filtered statements as plain rows for `read.build` (the path without expand)."""
    return chosen.filtered(read.base(dialect_of(session)), dialect_of(session))


def get_statement(session: Session, statement_id: str) -> m.Statement:
    query = _with_relations(select(m.Statement).where(m.Statement.id == statement_id))
    statement = session.exec(query).first()  # type: ignore[call-overload]
    if statement is None:
        raise NotFound("statement", statement_id)
    return statement  # type: ignore[no-any-return]


EXPANSIONS = ("speaker", "article", "treaties")


def statements_query(session: Session, chosen: Plan, expand: Sequence[str] = ()) -> Select[Any]:
    query = _with_relations(chosen.filtered(select(m.Statement), dialect_of(session)))
    if "speaker" in expand:
        speaker = selectinload(m.Statement.speaker)  # type: ignore[arg-type]
        query = query.options(
            speaker.selectinload(m.Person.aliases),  # type: ignore[arg-type]
            speaker.selectinload(m.Person.country),  # type: ignore[arg-type]
        )
    if "article" in expand:
        article = selectinload(m.Statement.article)  # type: ignore[arg-type]
        query = query.options(
            article.selectinload(m.Article.authors),  # type: ignore[arg-type]
            article.selectinload(m.Article.treaties),  # type: ignore[arg-type]
        )
    return query
