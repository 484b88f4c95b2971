"""Every request's way in and out: each per-request concern is a module here, and the edge
(edge.py) composes them in one visible list (`Edge.steps`).

conditional.py  data version, ETag/Last-Modified validators, 304s
ratelimit.py    request counts per client (in memory or Redis), 429s
security.py     security headers, body and URL bounds
methods.py      HEAD, OPTIONS, Allow
observability.py request ids, JSON access log, Prometheus metrics
compression.py  gzip for clients that take it
edge.py         the steps in order, the deadline, and the one `send` wrapper (Reply)
"""
