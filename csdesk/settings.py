"""Settings from the environment, one dataclass per concern (names in ../shared/contract.md)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

DEFAULT_DATA_DIR = Path("csdesk-data")


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    """SQLAlchemy async URL: ``sqlite+aiosqlite:///...`` (embedded) or ``postgresql+asyncpg://...``."""
    echo: bool = False
    fast_path: bool = True
    """The ingest fast path (``CSDESK_SQLITE_FAST_PATH``, on unless ``0``/``off``): SQLite
    calls inline on the loop (``storage.sqlite_inline``), the acceptor's held connection
    (``storage.held``) and buyer messages of a batch written at once (``ingest.message_runs``,
    on every database). Off: every event the plain way, through the engine one at a time;
    the same outcomes, slower (the routing tests run both ways to keep them equal)."""

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True)
class RedisSettings:
    url: str | None = None
    """Unset: in-process queues, jobs and bus. Set: Redis queues, arq jobs, pub/sub fan-out."""
    key_prefix: str = "csdesk:"
    """Prefix of every Redis key, so tests and several deployments can share one server."""


@dataclass(frozen=True)
class AuthSettings:
    secret_key: str
    """Signs the pre-login CSRF cookie; sessions themselves are random ids stored hashed."""
    session_max_age_s: int = 12 * 3600
    """A shift plus overtime; the session ends after this even if active."""
    login_failures_allowed: int = 5
    """Failed logins per username within the window before throttling."""
    login_failures_per_address: int = 30
    """Failed logins per client address within the window (agents share an office address)."""
    login_window_s: int = 15 * 60
    cookie_secure: bool = False
    """``CSDESK_COOKIE_SECURE=1``: every cookie ``Secure`` whatever the request says. Without
    it cookies are ``Secure`` on requests that came over HTTPS: TLS to this process, or
    ``X-Forwarded-Proto: https`` from a trusted proxy (``SecuritySettings.trusted_proxies``)."""


@dataclass(frozen=True)
class WebhookSettings:
    secret: str
    """HMAC-SHA256 key for ``X-Csdesk-Signature`` on ``POST /api/v1/events`` of every shop
    that has no secret of its own (``csdesk shop add`` gives one)."""
    max_body_bytes: int = 64 * 1024
    replay_window_s: float = 300.0
    """A timestamped signature (``t=...,sha256=...``) older or newer than this is refused
    (``CSDESK_WEBHOOK_REPLAY_WINDOW_S``). Events keep their ids far longer, so a replay
    inside the window is a duplicate, one outside it a 401."""
    require_timestamp: bool = False
    """``CSDESK_WEBHOOK_REQUIRE_TIMESTAMP=1``: refuse the body-only signature (the last step
    of the migration in docs/events.md)."""


def _float_env(name: str, default: float, *, low: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not value >= low:
        raise ValueError(f"{name} must be at least {low:g}, got {raw!r}")
    return value


@dataclass(frozen=True)
class OutboundSettings:
    """Signed POSTs that leave the desk: buyer-visible messages to the shop's channel and
    integrator webhooks (``csdesk.outbound``)."""

    timeout_s: float = 10.0
    """One attempt's limit (connect and answer)."""
    backoff_s: float = 5.0
    """The first retry's delay; each next one doubles, with jitter
    (``CSDESK_OUTBOUND_BACKOFF_S``)."""
    max_backoff_s: float = 3600.0
    """No retry waits longer than this (``CSDESK_OUTBOUND_MAX_BACKOFF_S``)."""
    max_age_s: float = 24 * 3600.0
    """Retried for this long after the first attempt, then dead-lettered as ``failed``
    (``CSDESK_OUTBOUND_MAX_AGE_S``); a retry from the console starts a new window."""
    lease_s: float = 60.0
    """A claimed delivery is due again after this if its sender died mid-attempt
    (``CSDESK_OUTBOUND_LEASE_S``): at least once, deduped by the receiver on delivery_id."""
    sweep_batch: int = 50

    @classmethod
    def from_env(cls) -> OutboundSettings:
        return cls(
            backoff_s=_float_env("CSDESK_OUTBOUND_BACKOFF_S", cls.backoff_s, low=0.01),
            max_backoff_s=_float_env("CSDESK_OUTBOUND_MAX_BACKOFF_S", cls.max_backoff_s, low=0.01),
            max_age_s=_float_env("CSDESK_OUTBOUND_MAX_AGE_S", cls.max_age_s, low=0.0),
            lease_s=_float_env("CSDESK_OUTBOUND_LEASE_S", cls.lease_s, low=0.5),
            timeout_s=_float_env("CSDESK_OUTBOUND_TIMEOUT_S", cls.timeout_s, low=0.1),
        )


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class MediaUrlSettings:
    """Signed public URLs of the images in messages that leave the desk
    (``csdesk.outbound.media_urls``), signed with ``AuthSettings.secret_key``."""

    public_url: str | None = None
    """``CSDESK_PUBLIC_URL``: the desk as the buyer's platform reaches it
    (``https://desk.example.com``); unset, ``http://<host>:<port>`` of ``csdesk serve``.
    Workers (server mode) need it set: they do not know where the web processes listen."""
    ttl_s: int = 7 * 24 * 3600
    """How long a URL works after the delivery attempt that made it
    (``CSDESK_MEDIA_URL_TTL_S``); a retry makes fresh ones."""

    def base_url(self, web: WebSettings) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if web.host in ("", "0.0.0.0", "::") else web.host
        return f"http://{host}:{web.port}"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SecuritySettings:
    """How pages defend themselves, and who may say the request came over HTTPS."""

    trusted_proxies: tuple[Network, ...] = ()
    """``CSDESK_TRUSTED_PROXIES``: addresses or networks (``127.0.0.1,10.0.0.0/8``) of the
    reverse proxies in front of the web process. Only a request whose peer is one of them
    may say, with ``X-Forwarded-Proto: https``, that the browser used HTTPS (cookies then go
    ``Secure`` and HSTS is sent), and name the client in ``X-Forwarded-For`` (the login
    throttle counts that address). Empty (the default): both headers are ignored."""
    hsts_max_age_s: int = 365 * 24 * 3600
    """``Strict-Transport-Security: max-age`` on responses served over HTTPS
    (``CSDESK_HSTS_MAX_AGE_S``; 0 sends none)."""


def parse_networks(raw: str, *, name: str = "CSDESK_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; a bad entry is a ValueError naming it."""
    networks: list[Network] = []
    for part in raw.replace(";", ",").split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{name}: {entry!r} is not an address or network") from None
    return tuple(networks)


@dataclass(frozen=True)
class RetentionSettings:
    """How long the desk keeps what it no longer needs."""

    processed_events: timedelta = timedelta(days=30)
    """``CSDESK_EVENT_RETENTION_DAYS``: processed platform events (their ids make a
    redelivered event a duplicate) are deleted this long after they were received. Never
    less than :data:`MIN_EVENT_RETENTION`: an id must outlive every redelivery or replay
    the platform (and the signed-timestamp window) could still send. Failed and unprocessed
    events are never purged: they wait for a supervisor."""


MIN_EVENT_RETENTION = timedelta(days=7)
"""Marketplaces redeliver unacknowledged webhooks for up to a few days; a week covers it
and any replay window the inbound signature allows."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database: DatabaseSettings
    redis: RedisSettings
    auth: AuthSettings
    webhook: WebhookSettings
    web: WebSettings = field(default_factory=WebSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    media_urls: MediaUrlSettings = field(default_factory=MediaUrlSettings)
    run_jobs_in_process: bool = True
    """Embedded mode runs job functions in the web process; server mode leaves them to workers."""

    @property
    def mode(self) -> str:
        return "server" if self.redis.url else "embedded"


def data_dir_from_env(data_dir: Path | None = None) -> Path:
    """``--data``, else ``$CSDESK_DATA_DIR``, else ``./csdesk-data``."""
    return Path(data_dir or os.environ.get("CSDESK_DATA_DIR") or DEFAULT_DATA_DIR)


def database_settings(data_dir: Path) -> DatabaseSettings:
    """The database alone (``$CSDESK_DATABASE_URL`` or SQLite in ``data_dir``): unlike
    ``load_settings`` it writes nothing, for commands that only use an existing database."""
    env = os.environ
    return DatabaseSettings(
        url=env.get("CSDESK_DATABASE_URL") or sqlite_url(data_dir),
        fast_path=env.get("CSDESK_SQLITE_FAST_PATH", "1").strip().lower()
        not in ("0", "off", "false", "no"),
    )


def _secret_from_env(name: str, data_dir: Path) -> str:
    """Use the environment; otherwise keep a generated secret in the data dir so restarts agree."""
    value = os.environ.get(name)
    if value:
        return value
    path = data_dir / f".{name.lower()}"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'csdesk.sqlite3').resolve()}"


def load_settings(
    data_dir: Path | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
) -> Settings:
    env = os.environ
    data_dir = data_dir_from_env(data_dir)
    redis_url = env.get("CSDESK_REDIS_URL") or None
    return Settings(
        data_dir=data_dir,
        database=database_settings(data_dir),
        redis=RedisSettings(url=redis_url, key_prefix=env.get("CSDESK_REDIS_PREFIX", "csdesk:")),
        auth=AuthSettings(
            secret_key=_secret_from_env("CSDESK_SECRET_KEY", data_dir),
            cookie_secure=env.get("CSDESK_COOKIE_SECURE", "") == "1",
        ),
        webhook=WebhookSettings(
            secret=_secret_from_env("CSDESK_WEBHOOK_SECRET", data_dir),
            replay_window_s=_float_env("CSDESK_WEBHOOK_REPLAY_WINDOW_S", 300.0, low=1.0),
            require_timestamp=env.get("CSDESK_WEBHOOK_REQUIRE_TIMESTAMP", "").strip().lower()
            in ("1", "on", "true", "yes"),
        ),
        web=WebSettings(host=host or "127.0.0.1", port=port or 8080),
        security=security_settings(),
        retention=retention_settings(),
        outbound=OutboundSettings.from_env(),
        media_urls=MediaUrlSettings(
            public_url=env.get("CSDESK_PUBLIC_URL", "").strip() or None,
            ttl_s=_env_int("CSDESK_MEDIA_URL_TTL_S", MediaUrlSettings.ttl_s, low=60),
        ),
        run_jobs_in_process=redis_url is None,
    )


def _env_int(name: str, default: int, *, low: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < low:
        raise ValueError(f"{name} must be {low} or more, got {value}")
    return value


def security_settings() -> SecuritySettings:
    return SecuritySettings(
        trusted_proxies=parse_networks(os.environ.get("CSDESK_TRUSTED_PROXIES", "")),
        hsts_max_age_s=_env_int("CSDESK_HSTS_MAX_AGE_S", SecuritySettings.hsts_max_age_s),
    )


def retention_settings() -> RetentionSettings:
    days = _env_int(
        "CSDESK_EVENT_RETENTION_DAYS",
        RetentionSettings.processed_events.days,
        low=MIN_EVENT_RETENTION.days,
    )
    return RetentionSettings(processed_events=timedelta(days=days))
