"""How each resource's records map onto its tables: read them all, write one."""

import datetime as dt
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, true, tuple_, update
from sqlmodel import Session, SQLModel, col

from app import models as m
from app.db import bound, insert_many
from app.importing import records as r
from app.statements import tallies

if TYPE_CHECKING:
    from app.importing.loader import Item

Key = tuple[Any, ...]
Fields = dict[str, Any]


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(frozen=True)
class Link:
    """A list field stored as rows of a link table: (owner key columns..., target)."""

    field: str
    model: type[SQLModel]
    owner: tuple[str, ...]
    target: str
    mirror: str | None = None  # an owner column holding the targets, sorted, ';'-joined
    # Owner fields copied onto each link row (a statement's date, which orders a treaty's
    # statements in the link table's own index); rewritten whenever the owner changes.
    copies: tuple[str, ...] = ()


def mirrored(targets: Iterable[str]) -> str | None:
    """A Link.mirror column's value: the targets sorted, ';'-joined; None for none."""
    return ";".join(sorted(targets)) or None


@dataclass(frozen=True)
class Resource:
    name: str
    record: type[r.Record]
    model: type[SQLModel]
    key: tuple[str, ...]
    renames: dict[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    children: frozenset[str] = frozenset()
    read_children: Callable[[Session, dict[Key, Fields]], None] | None = None
    write_children: Callable[[Session, Any], None] | None = None
    write_companion: Callable[[Session, Any], None] | None = None  # rows others may cite
    only: dict[str, Any] = field(default_factory=dict)  # fixed column values (source.kind)
    cited_as: str | None = None  # another resource whose key this record's key also is
    search_type: str | None = None  # its documents' type in the search index, if indexed
    # Counts derived from its records (statement tallies), kept by each write's (before,
    # after) pairs, or rebuilt from the tables after a bulk load.
    on_change: Callable[[Session, Any], None] | None = None
    rebuild: Callable[[Any], None] | None = None

    def key_of(self, record: r.Record) -> Key:
        return tuple(getattr(record, name) for name in self.key)

    def key_in(self, data: Fields) -> Key:
        """The key of a record given in its JSON form (keys are slugs and codes: the same)."""
        return tuple(data[name] for name in self.key)

    def column(self, name: str) -> Any:
        return getattr(self.model, self.renames.get(name, name))

    @functools.cached_property
    def scalars(self) -> list[str]:
        linked = {link.field for link in self.links} | self.children
        return [name for name in self.record.model_fields if name not in linked]

    def _where(self, columns: list[Any], keys: list[Key] | None) -> Any:
        if keys is None:
            return true()
        if len(columns) == 1:
            return columns[0].in_([key[0] for key in keys])
        return tuple_(*columns).in_(keys)

    def read_many(self, session: Session, keys: list[Key] | None = None) -> dict[Key, r.Record]:
        """Records by key (all of them when `keys` is None), in the seed-file format."""
        if keys is not None and not keys:
            return {}
        where = self._where([self.column(k) for k in self.key], keys)
        query = select(self.model).filter_by(**self.only).where(where)
        found: dict[Key, Fields] = {}
        for row in session.execute(query).scalars():
            values = {name: getattr(row, self.renames.get(name, name)) for name in self.scalars}
            found[tuple(values[k] for k in self.key)] = values
        for link in self.links:
            owners = [getattr(link.model, c) for c in link.owner]
            for owner, targets in _read_links(session, link, self._where(owners, keys)).items():
                if owner in found:
                    found[owner][link.field] = targets
        if self.read_children and found:
            self.read_children(session, found)
        return {key: self.record.model_validate(values) for key, values in found.items()}

    def read_one(self, session: Session, key: Key) -> r.Record | None:
        return self.read_many(session, [key]).get(key)

    def delete_row(self, session: Session, key: Key) -> None:
        where = [self.column(k) == v for k, v in zip(self.key, key, strict=True)]
        session.execute(delete(self.model).where(*where))

    @property
    def mirrors(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.mirror)

    @property
    def mirror_columns(self) -> tuple[tuple[str, str], ...]:
        """(mirror column, list field) of each mirrored link."""
        return tuple((link.mirror, link.field) for link in self.links if link.mirror)

    def row_values(self, data: Fields, now: dt.datetime) -> Fields:
        values = {self.renames.get(n, n): data[n] for n in self.scalars} | self.only
        copies = {column: mirrored(data[name]) for column, name in self.mirror_columns}
        return values | copies | {"updated_at": now}

    @property
    def row_columns(self) -> tuple[str, ...]:
        scalars = (self.renames.get(n, n) for n in self.scalars)
        copies = (column for column, _ in self.mirror_columns)
        return (*scalars, *copies, *self.only, "updated_at")

    def insert_rows(self, session: Session, items: "list[Item]", now: dt.datetime) -> None:
        """New records in one executemany of tuples (the bulk load path)."""
        if not items:
            return
        table = self.model.__table__  # type: ignore[attr-defined]
        stamp = bound(session, table.c.updated_at, now)
        fixed = (*self.only.values(), stamp, stamp)
        mirrors = self.mirrors
        rows = [
            (
                *map(item.data.get, self.scalars),
                *(mirrored(item.data[link.field]) for link in mirrors),
                *fixed,
            )
            for item in items
        ]
        insert_many(session, table, (*self.row_columns, "created_at"), rows)
        if self.write_companion:
            for item in items:
                self.write_companion(session, item.record)

    def update_row(self, session: Session, record: r.Record) -> None:
        data = record.model_dump(mode="json")
        values = self.row_values(data, dt.datetime.now(dt.UTC))
        where = [self.column(k) == v for k, v in zip(self.key, self.key_of(record), strict=True)]
        session.execute(update(self.model).where(*where).values(**values))
        if self.write_companion:
            self.write_companion(session, record)

    def write_links_many(self, session: Session, items: "list[Item]", *, replace: bool) -> None:
        """Link rows of many records at once; `replace`: records that have links already,
        whose rows are made what the records say (only the rows that differ are deleted
        or written, so a record whose links did not change keeps its link rows and their
        history stays empty: app/history)."""
        if not items:
            return
        keys = [self.key_in(item.data) for item in items]
        for link in self.links:
            rows = {
                (*key, target, *(item.data[name] for name in link.copies))
                for key, item in zip(keys, items, strict=True)
                for target in item.data[link.field]
            }
            if replace:
                rows = _replace_links(session, link, self._where(_owners(link), keys), rows)
            table = link.model.__table__  # type: ignore[attr-defined]
            columns = (*link.owner, link.target, *link.copies)
            insert_many(session, table, columns, sorted(rows))
        if self.write_children:
            for item in items:
                self.write_children(session, item.record)


def _owners(link: Link) -> list[Any]:
    return [getattr(link.model, c) for c in link.owner]


def _replace_links(session: Session, link: Link, where: Any, wanted: set[Key]) -> set[Key]:
    """Delete the link rows under `where` that are not `wanted`; the wanted rows that are
    not there yet, to be written."""
    columns = [getattr(link.model, c) for c in (*link.owner, link.target, *link.copies)]
    stored = {tuple(row) for row in session.execute(select(*columns).where(where))}
    gone = stored - wanted
    if gone:
        session.execute(delete(link.model).where(tuple_(*columns).in_(sorted(gone))))
    return wanted - stored


def _read_links(session: Session, link: Link, where: Any = None) -> dict[Key, list[Any]]:
    columns = [getattr(link.model, c) for c in (*link.owner, link.target)]
    grouped: dict[Key, list[Any]] = defaultdict(list)
    for row in session.execute(select(*columns).where(where if where is not None else true())):
        grouped[tuple(row[:-1])].append(row[-1])
    return {key: sorted(values) for key, values in grouped.items()}


def _sources(model: type[SQLModel], *owner: str) -> Link:
    return Link("sources", model, owner, "source_slug")


# People: alternative spellings and positions are owned rows, replaced as a whole.


def _read_people_children(session: Session, people: dict[Key, Fields]) -> None:
    for values in people.values():
        values.update(aliases=[], positions=[])
    slugs = [key[0] for key in people]
    aliases = select(m.PersonAlias).where(col(m.PersonAlias.person_slug).in_(slugs))
    for alias in session.execute(aliases).scalars():
        people[(alias.person_slug,)]["aliases"].append(alias.name)
    positions = select(m.Position).where(col(m.Position.person_slug).in_(slugs))
    ids = select(col(m.Position.id)).where(col(m.Position.person_slug).in_(slugs))
    position_sources = _read_links(
        session,
        _sources(m.PositionSource, "position_id"),
        col(m.PositionSource.position_id).in_(ids),
    )
    for pos in session.execute(positions).scalars():
        people[(pos.person_slug,)]["positions"].append(
            {
                "title": pos.title,
                "organization": pos.organization,
                "country": pos.country_code,
                "start_on": pos.start_on,
                "end_on": pos.end_on,
                "end_by_on": pos.end_by_on,
                "still_held_on": pos.still_held_on,
                "note": pos.note,
                "sources": position_sources.get((pos.id,), []),
            }
        )


def _write_people_children(session: Session, person: r.PersonRecord) -> None:
    session.execute(delete(m.PersonAlias).filter_by(person_slug=person.slug))
    session.execute(delete(m.Position).filter_by(person_slug=person.slug))
    if person.aliases:
        rows = [
            {"person_slug": person.slug, "name": name, "slug": slugify(name) or None}
            for name in person.aliases
        ]
        session.execute(insert(m.PersonAlias), rows)
    for pos in person.positions:
        values = pos.model_dump(exclude={"sources", "country"}) | {
            "person_slug": person.slug,
            "country_code": pos.country,
        }
        new_id = session.execute(insert(m.Position).values(**values).returning(col(m.Position.id)))
        position_id = new_id.scalar_one()
        rows = [{"position_id": position_id, "source_slug": s} for s in pos.sources]
        session.execute(insert(m.PositionSource), rows)


# Articles: authors are ordered rows; every article is also a source facts can cite.


def _read_article_children(session: Session, articles: dict[Key, Fields]) -> None:
    for values in articles.values():
        values["authors"] = []
    slugs = [key[0] for key in articles]
    authors = (
        select(m.ArticleAuthor)
        .where(col(m.ArticleAuthor.article_slug).in_(slugs))
        .order_by(m.ArticleAuthor.ordinal)  # type: ignore[arg-type]
    )
    for author in session.execute(authors).scalars():
        articles[(author.article_slug,)]["authors"].append(author.name)


def _write_article_children(session: Session, article: r.ArticleRecord) -> None:
    session.execute(delete(m.ArticleAuthor).filter_by(article_slug=article.slug))
    rows = [
        {"article_slug": article.slug, "ordinal": i, "name": name, "slug": slugify(name)}
        for i, name in enumerate(article.authors, start=1)
    ]
    session.execute(insert(m.ArticleAuthor), rows)


def _write_article_source(session: Session, article: r.ArticleRecord) -> None:
    source = {
        "kind": "article",
        "title": article.title,
        "publisher": article.publication,
        "url": article.url,
        "published_on": article.published_on,
        "grade": "expert",
        "article_slug": article.slug,
    }
    exists = session.get(m.Source, article.slug) is not None
    if exists:
        session.execute(update(m.Source).filter_by(slug=article.slug).values(**source))
    else:
        session.execute(insert(m.Source).values(slug=article.slug, **source))


# Competing values: owned rows of limits, events, treaties and participation.


def _read_competing(name: str) -> Callable[[Session, dict[Key, Fields]], None]:
    def read(session: Session, found: dict[Key, Fields]) -> None:
        labels = {"/".join(map(str, key)): key for key in found}
        query = select(m.CompetingValue).where(
            m.CompetingValue.resource == name,  # type: ignore[arg-type]
            col(m.CompetingValue.key).in_(labels),
        )
        for values in found.values():
            values["competing"] = []
        for row in session.execute(query).scalars():
            found[labels[row.key]]["competing"].append(
                {
                    "field": row.field,
                    "value": row.value,
                    "source": row.source_slug,
                    "note": row.note,
                }
            )

    return read


def _write_competing(name: str) -> Callable[[Session, Any], None]:
    def write(session: Session, record: Any) -> None:
        key = "/".join(str(getattr(record, k)) for k in BY_NAME[name].key)
        session.execute(delete(m.CompetingValue).filter_by(resource=name, key=key))
        rows = [
            {"resource": name, "key": key, "field": c.field, "value": c.value,
             "source_slug": c.source, "note": c.note}
            for c in record.competing
        ]  # fmt: skip
        if rows:
            session.execute(insert(m.CompetingValue), rows)

    return write


def _competing(name: str) -> dict[str, Any]:
    return {
        "children": frozenset({"competing"}),
        "read_children": _read_competing(name),
        "write_children": _write_competing(name),
    }


_TREATY_REF = {"treaty": "treaty_slug", "country": "country_code"}

RESOURCES: tuple[Resource, ...] = (
    Resource(
        "countries",
        r.CountryRecord,
        m.Country,
        ("code",),
        links=(_sources(m.CountrySource, "country_code"),),
    ),
    Resource("sources", r.SourceRecord, m.Source, ("slug",), only={"kind": "document"}),
    Resource(
        "treaties",
        r.TreatyRecord,
        m.Treaty,
        ("slug",),
        links=(
            _sources(m.TreatySource, "treaty_slug"),
            Link("aliases", m.TreatyAlias, ("treaty_slug",), "slug"),
        ),
        **_competing("treaties"),
        search_type="treaty",
    ),
    Resource(
        "articles",
        r.ArticleRecord,
        m.Article,
        ("slug",),
        links=(Link("treaties", m.ArticleTreaty, ("article_slug",), "treaty_slug"),),
        children=frozenset({"authors"}),
        read_children=_read_article_children,
        write_children=_write_article_children,
        write_companion=_write_article_source,
        cited_as="sources",
        search_type="article",
    ),
    Resource(
        "limits",
        r.LimitRecord,
        m.Limit,
        ("slug",),
        renames=_TREATY_REF,
        links=(_sources(m.LimitSource, "limit_slug"),),
        **_competing("limits"),
    ),
    Resource(
        "events",
        r.EventRecord,
        m.Event,
        ("id",),
        renames=_TREATY_REF,
        links=(_sources(m.EventSource, "event_id"),),
        **_competing("events"),
        search_type="event",
    ),
    Resource(
        "participation",
        r.ParticipationRecord,
        m.Participation,
        ("treaty", "country"),
        renames=_TREATY_REF,
        links=(_sources(m.ParticipationSource, "treaty_slug", "country_code"),),
        **_competing("participation"),
    ),
    Resource(
        "people",
        r.PersonRecord,
        m.Person,
        ("slug",),
        renames={"country": "country_code"},
        links=(_sources(m.PersonSource, "person_slug"),),
        children=frozenset({"aliases", "positions"}),
        read_children=_read_people_children,
        write_children=_write_people_children,
        search_type="person",
    ),
    Resource(
        "statements",
        r.StatementRecord,
        m.Statement,
        ("id",),
        renames={"speaker": "speaker_slug", "country": "country_code", "article": "article_slug"},
        links=(
            Link(
                "treaties",
                m.StatementTreaty,
                ("statement_id",),
                "treaty_slug",
                "treaty_slugs",
                copies=("said_on",),
            ),  # fmt: skip
            Link("sources", m.StatementSource, ("statement_id",), "source_slug", "source_slugs"),
        ),
        search_type="statement",
        on_change=tallies.apply,
        rebuild=tallies.rebuild,
    ),
)

BY_NAME = {resource.name: resource for resource in RESOURCES}
# The kind of search document each searchable resource's records become.
SEARCH_TYPES = {res.name: res.search_type for res in RESOURCES if res.search_type}


def existing_keys(session: Session, resource: Resource) -> set[Any]:
    """Keys a reference may point at: every stored row, articles' companion sources too."""
    columns = [resource.column(k) for k in resource.key]
    return {row[0] if len(row) == 1 else tuple(row) for row in session.execute(select(*columns))}


def ordered(names: Iterable[str]) -> list[Resource]:
    wanted = set(names)
    return [res for res in RESOURCES if res.name in wanted]
