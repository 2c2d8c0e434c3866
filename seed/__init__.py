"""Deterministic demo data (Faker zh_CN), written through the app's own actions.

``seed_demo(sessions, SeedOptions(...))`` is what ``csdesk seed`` runs;
``content_digest(sessions)`` fingerprints a database's contents for determinism checks.
"""

from csdesk.seed.digest import content_digest
from csdesk.seed.generator import (
    DEMO_SHOP_ID,
    DEMO_SHOP_NAME,
    AlreadySeededError,
    DemoLogin,
    Progress,
    SeedError,
    SeedOptions,
    SeedReport,
    demo_logins,
    seed_demo,
)
from csdesk.seed.staff import DEMO_PASSWORD

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_SHOP_ID",
    "DEMO_SHOP_NAME",
    "AlreadySeededError",
    "DemoLogin",
    "Progress",
    "SeedError",
    "SeedOptions",
    "SeedReport",
    "content_digest",
    "demo_logins",
    "seed_demo",
]
