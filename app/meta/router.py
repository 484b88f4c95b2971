"""What the dataset is, how big, which version, and how to cite it."""

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.meta import service
from app.urls import base_urls

router = APIRouter(tags=["meta"])

LICENCE = (
    "CC-BY-4.0 for our own summaries and structure; quoted words and cited documents "
    "belong to their authors."
)
TITLE = "treatykb: an open knowledge base of arms-control treaties"
CITATION = "{title}, data version {version} ({made}), {url}"


class Meta(BaseModel):
    data_version: int = Field(description="Changes on every write; also in X-Data-Version.")
    changed_at: dt.datetime = Field(description="When this version was made.")
    counts: dict[str, int] = Field(description="Records per resource.")
    licence: str = Field(description="The licence the data may be reused under.")
    permalink: str = Field(description="This version's description, never changed: cite it.")
    citation: str = Field(description="How to cite this version of the dataset, in plain text.")
    csl: dict[str, Any] = Field(
        description="The same citation as CSL-JSON (Zotero, Pandoc, citeproc)."
    )


@router.get("/meta", operation_id="meta-get")
def get_meta(request: Request, session: SessionDep) -> Meta:
    """The data version (`as_of`'s, if given), when it was made, record counts, licence,
    and a citation of this version with its permalink."""
    state = request.state
    version, made = getattr(state, "data_version", None), getattr(state, "changed_at", None)
    if version is None or made is None:
        version, made = service.read_version(request.app.state.engine) or (
            0, dt.datetime.now(dt.UTC)
        )  # fmt: skip
    permalink = f"{base_urls(request).base}/meta?as_of={version}"
    day = made.date()
    return Meta(
        data_version=version,
        changed_at=made,
        counts=service.record_counts(session),
        licence=LICENCE,
        permalink=permalink,
        citation=CITATION.format(title=TITLE, version=version, made=day.isoformat(), url=permalink),
        csl={
            "id": f"treatykb-{version}", "type": "dataset", "title": TITLE,
            "version": str(version), "URL": permalink, "publisher": "treatykb",
            "issued": {"date-parts": [[day.year, day.month, day.day]]},
        },
    )  # fmt: skip
