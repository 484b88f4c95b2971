"""The articles list, declared once: its filters and sorts."""

from app import models as m
from app.reads.filters import dated, linked, one_of, search
from app.reads.spec import ReadSpec

A = m.Article

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
)
