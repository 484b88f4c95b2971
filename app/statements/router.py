"""HTTP endpoints for statements."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from app.articles.schemas import ArticlePublic, article_public
from app.dates import Day, today
from app.db import SessionDep, off_loop, one_row
from app.errors import InvalidParameter, NotFound
from app.filters import values
from app.json import JSONBytes
from app.listing import list_response, rows_response
from app.pagination import Page, PageDep, PageParams, Sort, version_memo
from app.people.schemas import PersonPublic, person_public
from app.schemas import ArticleRef, PersonRef, TreatyRef
from app.search.query import HELP as SEARCH_HELP
from app.statements import prepared, read, service
from app.statements.schemas import StatementPublic, statement_public
from app.treaties import service as treaties
from app.treaties.schemas import TreatyPublic, treaty_public
from app.treaties.status import TreatyDates
from app.urls import Urls, UrlsDep, key_path

router = APIRouter(prefix="/statements", tags=["statements"])

DATE_RULE = "A statement dated only to a month or year matches when its period overlaps."


async def statement_filters(
    treaty: Annotated[
        list[str] | None,
        Query(description="Treaty slug(s); repeat or comma-separate.", examples=["new-start"]),
    ] = None,
    speaker: Annotated[
        list[str] | None, Query(description="Speaker person slug(s).", examples=["sergei-lavrov"])
    ] = None,
    country: Annotated[
        list[str] | None,
        Query(description="Code(s) of the speaker's country at the time.", examples=["RU"]),
    ] = None,
    article: Annotated[list[str] | None, Query(description="Reporting article slug(s).")] = None,
    since: Annotated[
        Day | None, Query(description=f"On or after. {DATE_RULE}", examples=["2020-11-01"])
    ] = None,
    until: Annotated[
        Day | None, Query(description=f"On or before. {DATE_RULE}", examples=["2020-12-31"])
    ] = None,
    q: Annotated[str | None, Query(description=SEARCH_HELP, examples=["verif*"])] = None,
) -> service.StatementFilters:
    if since and until and since > until:
        raise InvalidParameter(f"since ({since}) is after until ({until}).")
    return service.StatementFilters(
        treaties=values(treaty),
        speakers=values(speaker),
        countries=[code.upper() for code in values(country)],
        articles=values(article),
        since=since,
        until=until,
        q=q,
    )


async def expansions(
    expand: Annotated[
        str | None,
        Query(description="Inline full related objects: speaker, article, treaties."),
    ] = None,
) -> tuple[str, ...]:
    names = tuple(name.strip() for name in (expand or "").split(",") if name.strip())
    unknown = sorted(set(names) - set(service.EXPANSIONS))
    if unknown:
        raise InvalidParameter(
            f"Cannot expand {', '.join(unknown)}; use {', '.join(service.EXPANSIONS)}."
        )
    return names


FiltersDep = Annotated[service.StatementFilters, Depends(statement_filters)]
SortDep = Annotated[Sort, Depends(service.sort_statements.dependency)]
ExpandDep = Annotated[tuple[str, ...], Depends(expansions)]


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
    session: SessionDep,
    urls: Urls,
    filters: service.StatementFilters,
    page: PageParams,
    sort: Sort = service.NEWEST_FIRST,
    expand: tuple[str, ...] = (),
) -> Page[StatementPublic] | Response:
    if not expand:
        query = service.statement_rows(session, filters)
        memo = version_memo(request)
        compiled = prepared.supports(filters, sort)
        return rows_response(
            request, response, session, query, sort, page, StatementPublic,
            lambda s, rows: read.build(s, rows, urls, memo),
            cells=lambda: read.csv_cells(query, urls.base, session.get_bind().dialect.name),
            prepared=(lambda: prepared.page_rows(session, filters, sort, page))
            if compiled else None,
            count=(lambda: prepared.count_rows(session, filters)) if compiled else None,
        )  # fmt: skip
    query = service.statements_query(session, filters, expand)
    build = builder(request, urls, expand)
    schema = StatementExpanded if expand else StatementPublic
    return list_response(
        request, response, session, query, sort, page, schema, build, as_built=bool(expand)
    )


@router.get("", operation_id="statements-list", response_model=Page[StatementPublic])
async def list_statements(
    request: Request,
    response: Response,
    session: SessionDep,
    urls: UrlsDep,
    filters: FiltersDep,
    page: PageDep,
    sort: SortDep,
    expand: ExpandDep,
) -> Page[StatementPublic] | Response:
    """List statements, newest first, filtered by treaty, speaker, country, article or date."""
    return await off_loop(
        request, statement_list, request, response, session, urls, filters, page, sort, expand
    )


def _one(session: Session, statement_id: str, urls: Urls, memo: read.Memo | None) -> Response:
    body = read.statement_json(session.get_bind().engine, statement_id, urls, memo)
    if body is None:
        raise NotFound("statement", statement_id)
    return JSONBytes(body)


@router.get("/{statement_id}", operation_id="statements-get", response_model=StatementPublic)
async def get_statement(
    request: Request,
    statement_id: Annotated[
        str, key_path("The statement's id.", "lavrov-2020-11-12-wait-until-the-dust-settles")
    ],
    session: SessionDep,
    urls: UrlsDep,
) -> Response:
    """One statement, with its speaker, article, treaties and sources."""
    return await one_row(request, _one, session, statement_id, urls, version_memo(request))
