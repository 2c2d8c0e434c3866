"""Password hashing with argon2id (argon2-cffi), parameters from the library's current profile."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 1024
"""Argon2 takes any length; the cap keeps a huge form field from becoming a cheap DoS."""

FAST_HASH_ENV: Final = "CSDESK_INSECURE_FAST_PASSWORD_HASH"
"""Set to ``1`` in test suites only: argon2's cheapest parameters instead of ~0.1 s per hash.
Hashes made that way are upgraded at the next login once the variable is gone."""


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    new_hash: str | None = None
    """Set when the stored hash used older parameters: store this one instead."""


def hasher() -> PasswordHasher:
    """The hasher with the current parameters (cheap to build; the work is in hashing)."""
    if os.environ.get(FAST_HASH_ENV) == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be set, or None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    """Slow on purpose (~0.1 s of CPU): call it through ``asyncio.to_thread`` from async code."""
    return hasher().hash(password)


def check_password(stored_hash: str | None, password: str) -> PasswordCheck:
    """Verify ``password``; no stored hash (unknown user, token-only user) never matches.

    Slow on purpose, like :func:`hash_password`, and as slow when there is nothing to match.
    """
    ph = hasher()
    if stored_hash is None or len(password) > MAX_PASSWORD_LENGTH:
        # As slow as a real check, so response times do not tell which usernames exist.
        ph.hash(password[:MAX_PASSWORD_LENGTH])
        return PasswordCheck(ok=False)
    try:
        ph.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if ph.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=ph.hash(password))
    return PasswordCheck(ok=True)
