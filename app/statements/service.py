"""All the SQL for statements: each list is a plan of the one read spec (spec.py)."""

from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

from app.db import dialect_of
from app.pagination import Sort
from app.reads.spec import Given, Plan
from app.statements import read
from app.statements.spec import STATEMENTS

sort_statements = STATEMENTS.sorts
NEWEST_FIRST = sort_statements.default


def plan(given: Given, sort: Sort = NEWEST_FIRST) -> Plan:
    return STATEMENTS.plan(given, sort)


def statement_rows(session: Session, chosen: Plan) -> Select[Any]:
    """The filtered statements as plain rows for `read.build` (the path without expand)."""
    return chosen.filtered(read.base(dialect_of(session)), dialect_of(session))


EXPANSIONS = ("speaker", "article", "treaties")
