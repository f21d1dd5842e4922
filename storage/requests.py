"""Replay protection for signed requests. Functions take a `Session`; the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import SeenRequest


def first_use(session: Session, digest: str, expires_at: int) -> bool:
    """Record a request's digest; False if it was applied before (a replay)."""
    return bool(insert_ignore(session, SeenRequest, {"digest": digest, "expires_at": expires_at},
                              returning=SeenRequest.digest))


def purge_expired(session: Session, now: int) -> None:
    """Forget digests whose signature can no longer be replayed anyway."""
    session.execute(delete(SeenRequest).where(SeenRequest.expires_at < now))
