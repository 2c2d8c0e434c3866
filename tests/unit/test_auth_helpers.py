"""Pure auth helpers: redirect targets, CSRF tokens, passwords, secrets, usernames."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from csdesk.actions.users import normalize_username, username_problem
from csdesk.auth.csrf import (
    login_csrf_is_signed,
    login_csrf_problem,
    new_login_csrf,
    session_csrf_problem,
)
from csdesk.auth.middleware import safe_next
from csdesk.auth.passwords import (
    FAST_HASH_ENV,
    MAX_PASSWORD_LENGTH,
    check_password,
    hash_password,
    password_problem,
)
from csdesk.auth.tokens import new_api_token, new_secret, sha256_hex

SECRET = "unit-test-secret"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/console/"),
        ("", "/console/"),
        ("/console/", "/console/"),
        ("/console/queues?role=refund&x=1", "/console/queues?role=refund&x=1"),
        ("/console/#top", "/console/#top"),
        ("https://evil.example/", "/console/"),
        ("http:/evil.example", "/console/"),
        ("//evil.example/x", "/console/"),
        ("///evil.example/x", "/console/"),
        ("/\\evil.example", "/console/"),
        ("\\\\evil.example", "/console/"),
        ("javascript:alert(1)", "/console/"),
        ("console/", "/console/"),
        ("/console/\r\nSet-Cookie: x=1", "/console/"),
        ("/console/\tx", "/console/"),
        ("/login", "/console/"),
        ("/login?next=/x", "/console/"),
        ("/logout", "/console/"),
        ("/" + "a" * 2001, "/console/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_login_csrf_round_trip() -> None:
    token = new_login_csrf(SECRET)
    assert token != new_login_csrf(SECRET)
    assert login_csrf_is_signed(SECRET, token)
    assert login_csrf_problem(SECRET, token, token) is None


@pytest.mark.parametrize(
    ("cookie", "field", "problem"),
    [
        (None, "x", "CSRF cookie missing"),
        ("", "x", "CSRF cookie missing"),
        ("SIGNED", None, "CSRF token missing"),
        ("SIGNED", "", "CSRF token missing"),
        ("SIGNED", "OTHER_SIGNED", "CSRF token invalid"),
        ("UNSIGNED", "UNSIGNED", "CSRF token invalid"),
        ("FOREIGN", "FOREIGN", "CSRF token invalid"),
    ],
)
def test_login_csrf_problems(cookie: str | None, field: str | None, problem: str) -> None:
    values = {
        "SIGNED": new_login_csrf(SECRET),
        "OTHER_SIGNED": new_login_csrf(SECRET),
        "UNSIGNED": "0123456789abcdef.not-a-signature",
        "FOREIGN": new_login_csrf("someone else's key"),
    }
    result = login_csrf_problem(
        SECRET, values.get(cookie or "", cookie), values.get(field or "", field)
    )
    assert result is not None
    assert result.startswith(problem)


@pytest.mark.parametrize(
    ("presented", "problem"),
    [(None, "CSRF token missing"), ("", "CSRF token missing"), ("f" * 64, "CSRF token invalid")],
)
def test_session_csrf_problems(presented: str | None, problem: str) -> None:
    result = session_csrf_problem("a" * 64, presented)
    assert result is not None
    assert result.startswith(problem)
    assert session_csrf_problem("a" * 64, "a" * 64) is None


def test_passwords_use_default_argon2_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAST_HASH_ENV, raising=False)
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(stored)
    assert check_password(stored, "correct horse").ok
    assert check_password(stored, "correct horse").new_hash is None
    assert not check_password(stored, "Correct horse").ok


def test_old_parameters_are_rehashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAST_HASH_ENV, raising=False)
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-123456")
    check = check_password(old, "pw-123456")
    assert check.ok
    assert check.new_hash is not None
    assert not PasswordHasher().check_needs_rehash(check.new_hash)
    assert not check_password(old, "pw-1234567").ok


@pytest.mark.parametrize(
    "stored", [None, "", "not-a-hash", "$argon2id$v=19$m=65536,t=3,p=4$broken"]
)
def test_nothing_to_match_never_matches(
    monkeypatch: pytest.MonkeyPatch, stored: str | None
) -> None:
    monkeypatch.setenv(FAST_HASH_ENV, "1")
    assert not check_password(stored, "anything at all").ok


def test_oversized_passwords_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAST_HASH_ENV, "1")
    huge = "x" * (MAX_PASSWORD_LENGTH + 1)
    assert password_problem(huge) is not None
    assert not check_password(hash_password("x" * MAX_PASSWORD_LENGTH), huge).ok


@pytest.mark.parametrize(
    ("password", "ok"),
    [("", False), ("1234567", False), ("12345678", True), ("密码密码密码密码", True)],
)
def test_password_rules(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok


def test_secrets() -> None:
    assert new_secret() != new_secret()
    assert len(new_secret()) == 43
    token = new_api_token()
    assert token.startswith("csd_")
    assert len(sha256_hex(token)) == 64
    assert sha256_hex(token) == sha256_hex(token) != token


@pytest.mark.parametrize(
    ("raw", "normalized", "valid"),
    [
        ("XiaoMei", "xiaomei", True),
        ("  xiaomei ", "xiaomei", True),
        ("ｘｉａｏｍｅｉ", "xiaomei", True),  # full-width letters from a Chinese IME
        ("店铺:小美", "店铺:小美", True),
        ("ops.bot-1@hq", "ops.bot-1@hq", True),
        ("x", "x", False),
        ("", "", False),
        ("has space", "has space", False),
        ("-leading", "-leading", False),
        ("a" * 65, "a" * 65, False),
        ("semi;colon", "semi;colon", False),
    ],
)
def test_usernames(raw: str, normalized: str, valid: bool) -> None:
    assert normalize_username(raw) == normalized
    assert (username_problem(normalized) is None) is valid
