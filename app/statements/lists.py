"""A list of statements as one response, for every route that lists them (the statements
list, a treaty's and a person's statements): one read spec, one way to answer."""

from typing import Any

from fastapi import Request, Response
from sqlmodel import Session

from app.articles.schemas import ArticlePublic, article_public
from app.dates import today
from app.listing import list_response, rows_response
from app.pagination import Page, PageParams, Sort, version_memo
from app.people.schemas import PersonPublic, person_public
from app.reads import compiled
from app.reads.spec import Given
from app.schemas import ArticleRef, PersonRef, TreatyRef
from app.statements import read, service
from app.statements.schemas import StatementPublic, statement_public
from app.treaties import service as treaties
from app.treaties.schemas import TreatyPublic, treaty_public
from app.treaties.status import TreatyDates
from app.urls import Urls


class StatementExpanded(StatementPublic):
    """A statement with `expand`ed relations inlined in place of their references (the
    ones not asked for stay references)."""

    speaker: PersonPublic | PersonRef | None  # type: ignore[assignment]
    article: ArticlePublic | ArticleRef | None  # type: ignore[assignment]
    treaties: list[TreatyPublic] | list[TreatyRef]  # type: ignore[assignment]


def builder(request: Request, urls: Urls, expand: tuple[str, ...]) -> Any:
    """Row -> API shape, with the requested relations inlined."""
    if not expand:
        return lambda s: statement_public(s, urls)
    engine = request.app.state.engine
    dates: dict[str, TreatyDates] = {}  # every treaty's, read once per request

    def build(s: Any) -> StatementPublic:
        data = statement_public(s, urls).model_dump()
        if "speaker" in expand and s.speaker:
            data["speaker"] = person_public(s.speaker, urls)
        if "article" in expand and s.article:
            data["article"] = article_public(s.article, urls)
        if "treaties" in expand:
            if not dates:
                with Session(engine) as session:
                    dates.update(treaties.all_dates(session, today()))
            data["treaties"] = [treaty_public(t, dates[t.slug], urls) for t in s.treaties]
        return StatementExpanded.model_validate(data)

    return build


def statement_list(
    request: Request,
    response: Response,
    session: Session,
    urls: Urls,
    filters: Given,
    page: PageParams,
    sort: Sort = service.NEWEST_FIRST,
    expand: tuple[str, ...] = (),
) -> Page[StatementPublic] | Response:
    chosen = service.plan(filters, sort)
    if not expand:
        query = service.statement_rows(session, chosen)
        memo = version_memo(request)
        return rows_response(
            request, response, session, query, chosen.sort, page, StatementPublic,
            lambda s, rows: read.build(s, rows, urls, memo),
            cells=lambda: read.csv_cells(query, urls.base, session.get_bind().dialect.name),
            prepared=lambda: compiled.page_rows(
                session, chosen, read.base, page, read.COLUMNS.index),
            count=lambda: compiled.count_rows(session, chosen),
        )  # fmt: skip
    query = service.statements_query(session, chosen, expand)
    build = builder(request, urls, expand)
    return list_response(
        request,
        response,
        session,
        query,
        chosen.sort,
        page,
        StatementExpanded,
        build,
        as_built=True,
    )
