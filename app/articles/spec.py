"""The articles list, declared once: its filters and sorts."""

from sqlmodel import col

from app import models as m
from app.reads.facets import Facet, date_facets, labelled
from app.reads.filters import dated, linked, one_of, search
from app.reads.spec import ReadSpec, Via

A, AT, AA = m.Article, m.ArticleTreaty, m.ArticleAuthor

ARTICLES = ReadSpec(
    name="articles",
    model=A,
    columns={"published_on": A.published_on, "title": A.title, "slug": A.slug},
    key="slug",
    default_sort="-published_on",
    filters=(
        linked(
            "treaty",
            "Treaty slug(s) covered.",
            "inf",
            "slug",
            m.ArticleTreaty.article_slug,
            m.ArticleTreaty.treaty_slug,
        ),
        linked(
            "author",
            "Author slug(s).",
            "kingston-reif",
            "slug",
            m.ArticleAuthor.article_slug,
            m.ArticleAuthor.slug,
        ),
        one_of("publication", "Publication name(s).", "Arms Control Today", A.publication),
        *dated("published_on", "Issue date", ("2020-11-01", "2020-12-31")),
        search("article", "slug"),
    ),  # fmt: skip
    facets=(
        Facet(
            "treaty",
            "treaty_slug",
            "Articles per treaty covered.",
            labelled(m.Treaty.slug, m.Treaty.short_name),
            link=Via(AT, lambda: col(AT.article_slug) == A.slug, {}),
        ),
        Facet(
            "author",
            "slug",
            "Articles per author.",
            labelled(AA.slug, AA.name),
            link=Via(AA, lambda: col(AA.article_slug) == A.slug, {}),
        ),
        Facet("publication", "publication", "Articles per publication."),
        *date_facets("published_on", "Articles"),
    ),  # fmt: skip
)
