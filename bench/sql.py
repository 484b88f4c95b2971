"""The SQL our service runs for each workload on SQLite, written out once, so the ceiling
(bench/ceiling.py) and Datasette run the same statements: every ratio then compares
servers, not queries. Parameters are named (`:id`), as both sqlite3 and Datasette take.
"""

STAMP = "replace(replace({0}, ' ', 'T'), '.000000', '') || 'Z'"
ROWS = (
    "select s.id, s.text, s.said_on, s.speaker_role, s.venue, s.note, "
    f"{STAMP.format('s.created_at')} as created_at, {STAMP.format('s.updated_at')} as updated_at, "
    "s.speaker_slug, s.country_code, s.article_slug, p.name as speaker_name, "
    "c.name as country_name, a.title as article_title, "
    "s.treaty_slugs, s.source_slugs "
    "from statement s left join person p on p.slug = s.speaker_slug "
    "left join country c on c.code = s.country_code "
    "left join article a on a.slug = s.article_slug "
)
NEWEST = " order by s.said_on desc, s.id desc limit 51"
# A partial date overlaps the range: the service's since/until rule, as it compiles it.
SINCE = (
    "s.said_on >= substr(:since, 1, 4) and (length(s.said_on) = 10 and s.said_on >= :since "
    "or length(s.said_on) = 7 and s.said_on >= substr(:since, 1, 7) "
    "or length(s.said_on) = 4 and s.said_on >= substr(:since, 1, 4))"
)
SEARCH = (
    "select d.id, d.type, d.key, d.label, d.date, -bm25(search_fts, 10.0, 5.0, 2.0) as score, "
    "snippet(search_fts, -1, '<b>', '</b>', '…', 16) as snippet "
    "from search_fts join search_document d on d.id = search_fts.rowid "
    "where search_fts match '\"' || :q || '\"' and search_fts.rowid in ("
    "select rowid from search_fts where search_fts match '\"' || :q || '\"' "
    "order by bm25(search_fts, 10.0, 5.0, 2.0) limit :n) order by score desc, d.id"
)

Q_KEYS = (
    "select d.key from search_document d join search_fts on search_fts.rowid = d.id "
    "where search_fts match '\"' || :q || '\"' and d.type = 'statement'"
)
# A page and the capped count our service sends with it: the ceiling runs both.
COUNTED = {"list_treaty": "count_treaty", "list_treaty_varied": "count_treaty",
           "q_varied": "count_q"}  # fmt: skip

SQL = {
    "by_id": ROWS + "where s.id = :id",
    "list_treaty": ROWS.replace(
        "from statement s", "from statement_treaty t join statement s on s.id = t.statement_id"
    )
    + "where t.treaty_slug = :treaty "
    "order by t.said_on desc, t.statement_id desc limit 51",
    "list_treaty_varied": ROWS.replace(
        "from statement s", "from statement_treaty t join statement s on s.id = t.statement_id"
    )
    + "where t.treaty_slug = :treaty "
    "order by t.said_on desc, t.statement_id desc limit :n",
    # `q` on the statements list, by id: the matching keys, then their rows sorted.
    "q_varied": ROWS + f"where s.id in ({Q_KEYS}) order by s.id || '' limit :n",
    "count_q": f"select count(*) from (select 1 from statement where id in ({Q_KEYS}) limit 10001)",
    # The capped count our service sends with a treaty's page.
    "count_treaty": "select count(*) from (select 1 from statement_treaty "
    "where treaty_slug = :treaty limit 10001)",
    "list_filtered": ROWS + f"where s.speaker_slug = :speaker and {SINCE} "
    "and s.said_on <= :until" + NEWEST,
    "list_varied": ROWS + "where s.said_on <= :until order by s.said_on desc, s.id desc limit :n",
    "search": SEARCH,
    "search_varied": SEARCH,
    "deep_page": ROWS + "where (s.said_on, s.id) < (:said_on, :id)" + NEWEST,
    "first_page": ROWS + NEWEST.lstrip(),
}
