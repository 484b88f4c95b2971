"""Every quotation of the source document, held to its characters and its dates.

`data/source_document.txt` is a byte-for-byte copy of the document the first seed data
comes from (shared/seeds/000_4ca6f50aaf0e18f5.txt): three Arms Control Today pieces and the
author page's epigraph. The rule (seed_data/statements.yaml): a statement's text is what
stands between the source's quotation marks, closing punctuation inside them included;
the parts of a quotation the article breaks with its own words are joined by " … ".
"""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

SOURCE = (Path(__file__).parent / "data" / "source_document.txt").read_text(encoding="utf-8")
TEXT = " ".join(SOURCE.split())  # the copy breaks one quotation across two lines
OPENING, CLOSING = '“"', '”"'
ARTICLES = {
    "act-2020-12-new-start-deal-to-wait-for-biden",
    "act-2020-11-russia-highlights-open-skies-issues",
    "act-2020-11-russia-expands-inf-moratorium-proposal",
}
FROM_THE_DOCUMENT = ARTICLES | {"aca-author-page-kingston-reif"}
# Quoted in the document but not anyone's statement: a discussion's title (an event's).
NOT_STATEMENTS = {"The Quota Coordination and Deconfliction for Open Skies Flights in 2021."}
PARTS = " … "


def quotations() -> list[str]:
    """Every quotation in the document, as the characters between its marks."""
    return [a or b for a, b in re.findall(r"“(.+?)”|\"(.+?)\"", TEXT)]


@pytest.fixture(scope="module")
def quoted(client: TestClient) -> list[dict[str, Any]]:
    items = client.get("/v1/statements", params={"limit": 500}).json()["items"]
    found = [s for s in items if {x["slug"] for x in s["sources"]} & FROM_THE_DOCUMENT]
    assert len(found) == 25  # the document's quotations (one of them in two parts)
    return found


def test_every_text_is_the_sources_characters_between_its_quotation_marks(
    quoted: list[dict[str, Any]],
) -> None:
    whole = set(quotations())
    for statement in quoted:
        parts = statement["text"].split(PARTS)
        wrong = [part for part in parts if " ".join(part.split()) not in whole]
        assert not wrong, f"{statement['id']}: not a whole quotation of the source: {wrong}"


def test_quotation_parts_stand_in_the_sources_order(quoted: list[dict[str, Any]]) -> None:
    for statement in (s for s in quoted if PARTS in s["text"]):
        at = [TEXT.index(part) for part in statement["text"].split(PARTS)]
        assert at == sorted(at), statement["id"]
        assert statement["note"], f"{statement['id']}: say what the article puts between them"


def test_every_quotation_of_the_document_is_a_statement(quoted: list[dict[str, Any]]) -> None:
    held = {part for s in quoted for part in s["text"].split(PARTS)}
    held = {" ".join(part.split()) for part in held}
    missing = [q for q in quotations() if q not in held and q not in NOT_STATEMENTS]
    # A word or two in quotation marks inside a sentence is still the speaker's word.
    assert missing == []


@pytest.mark.parametrize(
    ("statement", "ends_with"),
    [
        ("biegun-2020-11-09-russian-calculation", "acquire,"),  # ...acquire,” said
        ("ryabkov-2020-10-conflict-of-obligations", "obligations."),  # ...obligations.”
        ("billingslea-2020-a-non-starter", "non-starter."),  # "a non-starter."
        ("putin-2020-10-not-to-deploy-9m729", "European Russia"),  # ...Russia” as long as
    ],
)
def test_closing_punctuation_is_kept_where_the_source_prints_it_inside(
    quoted: list[dict[str, Any]], statement: str, ends_with: str
) -> None:
    [found] = [s for s in quoted if s["id"] == statement]
    assert found["text"].endswith(ends_with)


MONTHS = "Jan. Feb. March April May June July Aug. Sept. Oct. Nov. Dec.".split()


def act_day(day: str) -> str:
    """2020-11-09 as Arms Control Today writes it: "Nov. 9"."""
    _, month, number = day.split("-")
    return f"{MONTHS[int(month) - 1]} {int(number)}"


def test_no_day_is_more_precise_than_the_article(quoted: list[dict[str, Any]]) -> None:
    """A statement dated to the day from an article must have that day in the article's
    own words, or a note quoting the article's words that date it ("The following day")."""
    for statement in quoted:
        said_on, note = statement["said_on"], statement["note"] or ""
        if len(said_on) < 10 or statement["article"] is None:
            continue
        cited = re.findall(r"\"(.+?)\"", note)
        dated = act_day(said_on) in TEXT or any(words in TEXT for words in cited)
        assert dated, f"{statement['id']}: {said_on} is not in the article"


def test_a_month_inferred_from_context_says_so(quoted: list[dict[str, Any]]) -> None:
    """A statement dated to a month the article does not name says where the month comes
    from, rather than pass an inference off as the source's date."""
    says = re.compile(r"gives no (day|date)|inferred")
    silent = [
        s["id"] for s in quoted if len(s["said_on"]) == 7 and not says.search(s["note"] or "")
    ]
    assert silent == []
