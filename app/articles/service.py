"""All the SQL for articles."""

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from app import models as m
from app.articles.spec import ARTICLES
from app.db import dialect_of
from app.errors import NotFound
from app.reads.spec import Plan

sort_articles = ARTICLES.sorts
NEWEST_FIRST = sort_articles.default


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Article.authors),  # type: ignore[arg-type]
        selectinload(m.Article.treaties),  # type: ignore[arg-type]
    )


def articles_query(session: Session, plan: Plan) -> Select[Any]:
    """The articles a plan of ARTICLES reads, with their authors and treaties."""
    return _with_relations(plan.filtered(select(m.Article), dialect_of(session)))


def get_article(session: Session, slug: str) -> m.Article:
    query = _with_relations(select(m.Article).where(m.Article.slug == slug))
    article = session.exec(query).first()  # type: ignore[call-overload]
    if article is None:
        raise NotFound("article", slug)
    return article  # type: ignore[no-any-return]
