"""API tokens: created once, stored as a SHA-256 hash with a prefix to find them by."""

import datetime as dt
import hashlib
import hmac
import secrets
from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import Session, col

from app import models as m


class Role(StrEnum):
    editor = "editor"
    admin = "admin"


RANK = {Role.editor: 1, Role.admin: 2}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str, role: Role) -> str:
    """Store a new token and return it; it is never shown again."""
    prefix = secrets.token_hex(4)
    token = f"tkb_{prefix}_{secrets.token_urlsafe(32)}"
    session.add(
        m.ApiToken(
            name=name,
            role=role,
            prefix=prefix,
            hash=_hash(token),
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    return token


def find_token(session: Session, token: str) -> m.ApiToken | None:
    """The stored token matching `token`, compared in constant time, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "tkb":
        return None
    digest = _hash(token)
    candidates = session.execute(select(m.ApiToken).where(col(m.ApiToken.prefix) == parts[1]))
    stored: m.ApiToken
    for stored in candidates.scalars():
        if hmac.compare_digest(stored.hash, digest):
            return stored
    return None


def list_tokens(session: Session) -> list[m.ApiToken]:
    return list(session.execute(select(m.ApiToken).order_by(col(m.ApiToken.name))).scalars())


def revoke_token(session: Session, *, name: str) -> bool:
    result = session.execute(
        update(m.ApiToken)
        .where(m.ApiToken.name == name, m.ApiToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
