"""Every table, in one package, so Alembic and the services import one thing."""

from sqlmodel import SQLModel

from app.models.article import Article, ArticleAuthor, ArticleTreaty
from app.models.country import Country, CountrySource
from app.models.curation import ApiToken, Change, ImportEvent, ImportJob
from app.models.meta import DataVersion, DataVersionLog
from app.models.person import Person, PersonAlias, PersonSource, Position, PositionSource
from app.models.search import SearchDocument
from app.models.source import CompetingValue, Source
from app.models.statement import Statement, StatementSource, StatementTally, StatementTreaty
from app.models.treaty import (
    Event,
    EventSource,
    Limit,
    LimitSource,
    Participation,
    ParticipationSource,
    Treaty,
    TreatyAlias,
    TreatySource,
)

__all__ = [
    "ApiToken",
    "Change",
    "CompetingValue",
    "Article",
    "ArticleAuthor",
    "ArticleTreaty",
    "Country",
    "CountrySource",
    "DataVersion",
    "DataVersionLog",
    "Event",
    "EventSource",
    "ImportEvent",
    "ImportJob",
    "Limit",
    "LimitSource",
    "Participation",
    "ParticipationSource",
    "Person",
    "PersonAlias",
    "PersonSource",
    "Position",
    "PositionSource",
    "SQLModel",
    "SearchDocument",
    "Source",
    "Statement",
    "StatementSource",
    "StatementTally",
    "StatementTreaty",
    "Treaty",
    "TreatyAlias",
    "TreatySource",
]
