"""All the SQL for articles."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import models as m
from app.db import dialect_of
from app.errors import NotFound
from app.filters import on_or_after, on_or_before
from app.pagination import sort_param
from app.search.service import matching_keys

SORTS = {"published_on": m.Article.published_on, "title": m.Article.title, "slug": m.Article.slug}
sort_articles = sort_param(SORTS, m.Article.slug, "-published_on")
NEWEST_FIRST = sort_articles.default


@dataclass(frozen=True)
class ArticleFilters:
    treaties: Sequence[str] = ()
    authors: Sequence[str] = ()
    publications: Sequence[str] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    q: str | None = None


def _with_relations(query: Select[Any]) -> Select[Any]:
    return query.options(
        selectinload(m.Article.authors),  # type: ignore[arg-type]
        selectinload(m.Article.treaties),  # type: ignore[arg-type]
    )


def _filtered(session: Session, f: ArticleFilters) -> Select[Any]:
    query = select(m.Article)
    if f.q:
        query = query.where(
            col(m.Article.slug).in_(matching_keys(dialect_of(session), "article", f.q))
        )
    if f.treaties:
        linked = select(m.ArticleTreaty.article_slug).where(
            col(m.ArticleTreaty.treaty_slug).in_(f.treaties)
        )
        query = query.where(col(m.Article.slug).in_(linked))
    if f.authors:
        by = select(m.ArticleAuthor.article_slug).where(col(m.ArticleAuthor.slug).in_(f.authors))
        query = query.where(col(m.Article.slug).in_(by))
    if f.publications:
        query = query.where(col(m.Article.publication).in_(f.publications))
    if f.since:
        query = query.where(on_or_after(m.Article.published_on, f.since))
    if f.until:
        query = query.where(on_or_before(m.Article.published_on, f.until))
    return query


def articles_query(session: Session, filters: ArticleFilters) -> Select[Any]:
    return _with_relations(_filtered(session, filters))


def get_article(session: Session, slug: str) -> m.Article:
    query = _with_relations(select(m.Article).where(m.Article.slug == slug))
    article = session.exec(query).first()  # type: ignore[call-overload]
    if article is None:
        raise NotFound("article", slug)
    return article  # type: ignore[no-any-return]
