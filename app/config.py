"""Settings, read from the environment with the TREATYKB_ prefix."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    default_page_size: int = 50
    max_page_size: int = 500


@lru_cache
def get_settings() -> Settings:
    return Settings()
