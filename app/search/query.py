"""The search language, parsed once and rendered for Tantivy, SQLite FTS5 and PostgreSQL tsquery.

    warhead freeze        every word must match (stemmed: extend finds extended, extends)
    "exact phrase"        the words in this order
    inspections OR verification
    -excluded             no record containing this word (or -"a phrase")
    verif*                words starting with "verif"

Anything else is a separator, so any input is safe: a quote that never closes ends its
phrase at the end of the input, and FTS5 or SQL syntax is never passed on. English stop
words (PostgreSQL's list) are dropped outside phrases on both backends, so both engines
see the same words.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import tantivy
from sqlalchemy import func, literal

from app.errors import InvalidParameter
from app.search.engine import ANALYZER, FOLD, SCHEMA, WEIGHTS

MAX_QUERY = 500
HELP = 'Full-text search: words (all must match, stemmed), "exact phrase", OR, -excluded, prefix*.'
WORD = re.compile(r"[^\W_]+", re.UNICODE)
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against between
    into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now
    """.split()
)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False


@dataclass
class Query:
    """Every group must match (a group is an OR of terms); no excluded term may."""

    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)


def _phrase(text: str) -> list[Term]:
    words = tuple(w.lower() for w in WORD.findall(text))
    return [Term(words)] if words else []


def _bare(text: str) -> list[Term]:
    """A bare token may hold several words ("New-START"): each is a term of its own."""
    words = [w.lower() for w in WORD.findall(text) if w.lower() not in STOP_WORDS]
    if len(words) == 1 and text.endswith("*"):
        return [Term((words[0],), prefix=True)]
    return [Term((w,)) for w in words]


def parse(text: str) -> Query:
    if len(text) > MAX_QUERY:
        raise InvalidParameter(f"q is longer than {MAX_QUERY} characters.")
    query = Query()
    join_next = False
    for match in TOKEN.finditer(text):
        negated, phrase, bare = match.groups()
        if bare == "OR":
            join_next = bool(query.groups)
            continue
        if phrase is not None:
            terms = _phrase(phrase)
        else:
            negated = "-" if bare.startswith("-") and len(bare) > 1 else ""
            terms = _bare(bare[1:] if negated else bare)
        if negated:
            query.excluded.extend(terms)
            continue
        for term in terms:
            if join_next:
                query.groups[-1].append(term)
            else:
                query.groups.append([term])
            join_next = False
    if not query.groups:
        raise InvalidParameter(
            "q has no word to search for (only operators, punctuation, stop words or "
            "exclusions); add at least one word."
        )
    return query


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + "*" if term.prefix else quoted


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression; every word is inside double quotes, so none is syntax."""
    groups = ["(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in query.groups]
    expression = " AND ".join(groups)
    for term in query.excluded:
        expression = f"({expression}) NOT {_fts5_term(term)}"
    return expression


def _pg_term(term: Term) -> Any:
    if term.prefix:
        return func.to_tsquery("english", literal(term.words[0] + ":*"))
    if len(term.words) == 1:
        return func.plainto_tsquery("english", literal(term.words[0]))
    return func.phraseto_tsquery("english", literal(" ".join(term.words)))


def to_tsquery(query: Query) -> Any:
    """A tsquery built from bound literals; only [^\\W_] words reach to_tsquery."""
    combined = None
    for group in query.groups:
        either = _pg_term(group[0])
        for term in group[1:]:
            either = func.tsquery_or(either, _pg_term(term))
        combined = either if combined is None else func.tsquery_and(combined, either)
    for term in query.excluded:
        combined = func.tsquery_and(combined, func.tsquery_not(_pg_term(term)))
    return combined


PREFIX_RANKED = 16  # a prefix's commonest words that rank its matches (see _tantivy_prefix)


def _tantivy_term(term: Term, searcher: tantivy.Searcher) -> tantivy.Query:
    if term.prefix:
        return _tantivy_prefix("".join(FOLD.analyze(term.words[0])), searcher)
    tokens = [token for word in term.words for token in ANALYZER.analyze(word)]
    if not tokens:  # a word longer than any the index keeps
        return tantivy.Query.empty_query()
    either = []
    for name, boost in WEIGHTS.items():
        if len(tokens) == 1:
            one = tantivy.Query.term_query(SCHEMA, name, tokens[0])
        else:
            one = tantivy.Query.phrase_query(SCHEMA, name, list(tokens))
        either.append((tantivy.Occur.Should, tantivy.Query.boost_query(one, boost)))
    return tantivy.Query.boolean_query(either)


def _tantivy_prefix(prefix: str, searcher: tantivy.Searcher) -> tantivy.Query:
    """Every document with a word starting with `prefix` (a regular expression over the
    term dictionary, scoring nothing), ranked by BM25 over the prefix's PREFIX_RANKED
    commonest words: all matches found, and ranked as whole words are, at the cost of the
    few longest posting lists rather than of every word the prefix has."""
    clauses = []
    for name, boost in WEIGHTS.items():
        every = tantivy.Query.regex_query(SCHEMA, name, re.escape(prefix) + ".*")
        clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(every, 0.0)))
        for word, _count in searcher.terms_with_prefix(name, prefix, limit=PREFIX_RANKED):
            scored = tantivy.Query.term_query(SCHEMA, name, word)
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(scored, boost)))
    return tantivy.Query.boolean_query(clauses)


def to_tantivy(query: Query, searcher: tantivy.Searcher) -> tantivy.Query:
    """Each group a MUST of its terms' SHOULD, each exclusion a MUST_NOT; every word in
    title (weight 10), body (5) and extra (2)."""
    clauses = []
    for group in query.groups:
        either = [(tantivy.Occur.Should, _tantivy_term(t, searcher)) for t in group]
        clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(either)))
    clauses += [(tantivy.Occur.MustNot, _tantivy_term(t, searcher)) for t in query.excluded]
    return tantivy.Query.boolean_query(clauses)
