"""A hit's snippet: its best passage, HTML-escaped, with the matched words in <mark>.

Made by the index's own highlighter (Tantivy's SnippetGenerator) from the page's texts,
which the page reads from the database anyway: the words marked are those the search
matched (stemmed and folded alike, prefixes included), the same on both databases.
"""

import html

import tantivy

from app.search.engine import SCHEMA

FIELDS = ("body", "title", "extra")  # the passage comes from the first with a match
MAX_CHARS = 150  # about 24 words
ELLIPSIS = "…"


class Snippets:
    """The snippets of one search's hits."""

    def __init__(self, searcher: tantivy.Searcher, query: tantivy.Query) -> None:
        self.generators = {}
        for field in FIELDS:
            generator = tantivy.SnippetGenerator.create(searcher, query, SCHEMA, field)
            generator.set_max_num_chars(2 * MAX_CHARS)
            self.generators[field] = generator

    def of(self, body: str, title: str, extra: str) -> str:
        """The passage of the first of body, title and extra with a matched word (or the
        body's beginning, if none has one)."""
        for field, text in zip(FIELDS, (body, title, extra), strict=True):
            if not text:
                continue
            snippet = self.generators[field].snippet_from_doc(tantivy.Document(**{field: text}))
            if snippet.highlighted():
                return _marked(text, snippet)
        return html.escape(body[:MAX_CHARS]) + (ELLIPSIS if len(body) > MAX_CHARS else "")


def _marked(text: str, snippet: tantivy.Snippet) -> str:
    """About MAX_CHARS of the text from a little before its first highlighted word (Tantivy
    picks the best passage, twice as long, and may end it on the word), escaped, the
    highlighted words (byte offsets) in <mark>, with an ellipsis where it cuts the text."""
    raw, passage = text.encode(), snippet.fragment_range()
    marks = [(passage.start + h.start, passage.start + h.end) for h in snippet.highlighted()]
    start = _word_start(raw, max(0, marks[0][0] - LEAD), marks[0][0])
    end = max(_word_end(raw, min(len(raw), start + MAX_CHARS)), marks[0][1])
    parts, at = [], start
    for begin, stop in marks:  # markers in, one escape of the whole, markers out
        if begin >= at and stop <= end:
            parts += [_plain(raw[at:begin]), START, _plain(raw[begin:stop]), STOP]
            at = stop
    parts.append(_plain(raw[at:end]))
    shown = html.escape(b"".join(parts).decode(errors="replace").strip())
    before = ELLIPSIS if start > 0 else ""
    after = ELLIPSIS if end < len(raw) else ""
    return before + shown.replace(MARK, "<mark>").replace(UNMARK, "</mark>") + after


MARK, UNMARK = "\ue000", "\ue001"  # private-use characters, which html.escape keeps
START, STOP = MARK.encode(), UNMARK.encode()


def _plain(part: bytes) -> bytes:
    """Text without the markers (were a record ever to hold them)."""
    return part.replace(START, b"").replace(STOP, b"") if b"\xee\x80" in part else part


LEAD = 40  # bytes of context before the first marked word


def _word_start(raw: bytes, at: int, before: int) -> int:
    """`at`, moved forward to the start of a word before `before` (or of a character)."""
    if at == 0 or raw[at - 1 : at].isspace():
        return at
    space = raw.find(b" ", at, before)
    return _character(raw, at) if space == -1 else space + 1


def _word_end(raw: bytes, at: int) -> int:
    """`at`, moved back to the end of a word, unless that is the text's end."""
    if at >= len(raw) or raw[at : at + 1].isspace():
        return at
    space = raw.rfind(b" ", 0, at)
    return _character(raw, at) if space == -1 else space


def _character(raw: bytes, at: int) -> int:
    """`at`, moved forward past UTF-8 continuation bytes to a character's start."""
    while at < len(raw) and raw[at] & 0xC0 == 0x80:
        at += 1
    return at
