"""Settings, read from the environment with the TREATYKB_ prefix."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SQLITE_MMAP_BYTES = 2**31  # Python's SQLite builds cap it just under 2 GiB


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TREATYKB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///treatykb.db",
        description="SQLAlchemy URL: a SQLite file (the default, relative to the working "
        "directory) or postgresql+psycopg://user@host/dbname.",
    )
    cors_origins: list[str] = Field(default=["*"], description="Origins allowed by CORS.")
    public_url: str | None = Field(
        default=None, description="Base URL used in links; default: taken from each request."
    )
    cache_max_age: int = Field(default=60, description="Cache-Control max-age, seconds.")
    version_ttl: float = Field(
        default=1.0,
        ge=0,
        description="Seconds a process trusts its cached data version; writes made by "
        "another process show in ETags within this time (this process's own at once).",
    )
    rate_limit_enabled: bool = True
    rate_limit_anonymous: str = Field(
        default="600/60", description="Requests/seconds per client address without a token."
    )
    rate_limit_token: str = Field(default="6000/60", description="Requests/seconds per token.")
    rate_limit_redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0 to share counts between instances; default: "
        "counted in each process.",
    )
    rate_limit_namespace: str = Field(
        default="treatykb", description="Prefix of the Redis keys (one per deployment)."
    )
    max_url_length: int = Field(default=16_384, description="Longer URLs get 414.")
    max_body_bytes: int = Field(default=1_048_576, description="Larger bodies get 413.")
    max_import_bytes: int = Field(
        default=512 * 1_048_576, description="The body limit of POST /v1/imports."
    )
    request_timeout: float = Field(
        default=30.0, description="Seconds to start answering before a 503 (0: no deadline)."
    )
    statement_timeout_ms: int = Field(
        default=30_000, description="PostgreSQL statement_timeout for every connection."
    )
    sqlite_mmap_bytes: int = Field(
        default=SQLITE_MMAP_BYTES,
        ge=0,
        description="SQLite: bytes of the database file read through a memory map (0: "
        "none); Python's SQLite caps it just under 2 GiB.",
    )
    read_threads: int | None = Field(
        default=None,
        ge=1,
        description="Threads that run blocking work (database reads) at once; default 2 "
        "on SQLite (CPU bound: more threads only fight over the GIL), 16 on PostgreSQL "
        "(waits on the network).",
    )
    response_cache: bool = Field(
        default=True,
        description="Keep whole GET answers per data version, URL and representation, and "
        "answer them again before routing (app/cache.py); false: every request is built.",
    )
    search_index: Path | None = Field(
        default=None,
        description="Directory of the search index, which is built from the database when "
        "missing and kept current from its change log; default: beside a SQLite file "
        "(treatykb.db.search), or a directory per database in the system's temporary "
        "directory for PostgreSQL (each instance keeps its own).",
    )
    log_json: bool = Field(default=True, description="JSON log lines with request ids.")
    log_level: str = "info"
    metrics_enabled: bool = Field(default=True, description="Serve GET /metrics.")
    default_page_size: int = 50
    max_page_size: int = 500


@lru_cache
def get_settings() -> Settings:
    return Settings()
