"""What the dataset is, how big, which version, and how to cite it."""

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.db import SessionDep
from app.meta import service

router = APIRouter(tags=["meta"])

LICENCE = (
    "CC-BY-4.0 for our own summaries and structure; quoted words and cited documents "
    "belong to their authors."
)
CITATION = (
    "treatykb: an open knowledge base of arms-control treaties, data version {version} "
    "({changed}), {url}"
)


class Meta(BaseModel):
    data_version: int = Field(description="Changes on every write; also in X-Data-Version.")
    changed_at: dt.datetime = Field(description="When the data last changed.")
    counts: dict[str, int] = Field(description="Records per resource.")
    licence: str = Field(description="The licence the data may be reused under.")
    citation: str = Field(description="How to cite this state of the dataset.")


@router.get("/meta", operation_id="meta-get")
def get_meta(request: Request, session: SessionDep) -> Meta:
    """The data version, when it last changed, record counts, licence and citation."""
    version, changed = service.read_version(request.app.state.engine) or (
        0,
        dt.datetime.now(dt.UTC),
    )
    url = str(request.url_for("get_meta"))
    return Meta(
        data_version=version,
        changed_at=changed,
        counts=service.record_counts(session),
        licence=LICENCE,
        citation=CITATION.format(version=version, changed=changed.date().isoformat(), url=url),
    )
