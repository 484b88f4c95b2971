"""What a request may be and what every response says (app/http/edge.py applies both).

- a URL longer than `max_url_length` gets 414; a body larger than `max_body_bytes` gets
  413 (`max_import_bytes` for POST /v1/imports), whether or not it declares its length;
- a response not started within `request_timeout` seconds becomes a 503 problem (and on
  PostgreSQL the query itself is cancelled by `statement_timeout`);
- every response says `nosniff`, sends no referrer and may not be framed; the explorer
  page gets a Content-Security-Policy that allows only its own files and the API.
"""

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
API_HEADERS = [*COMMON, (b"content-security-policy", API_CSP.encode())]
PAGE_HEADERS = [*COMMON, (b"content-security-policy", PAGE_CSP.encode())]


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The explorer page's CSP for the page and its files, the API's for the rest."""
    return PAGE_HEADERS if path == "/" or path.startswith("/explorer") else API_HEADERS
