"""Team administration and my account over real HTTP: an admin seats an agent with a
one-time password, the agent must change it, works, and is deactivated (sessions end,
their conversation goes back to the queue); bad input is a 400 naming the field with
nothing stored; roles; my tokens and sessions; the audit log with filters and CSV."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from csdesk.actions.users import create_user
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus, UserRole
from csdesk.storage.models import AgentProfile, AuditLog, Conversation, User
from tests.helpers import post_event, settle

LOGIN_CSRF = re.compile(r'action="/login".*?name="csrf_token" value="([^"]+)"', re.DOTALL)
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
PASSWORD = "admin-password-1"
pytestmark = pytest.mark.usefixtures("shop_id")


class Person:
    """One browser: its own cookies, signed in through the form, CSRF from a page."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        base = str(client.make_url("/")).rstrip("/")
        self.http = ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, username: str, password: str) -> str:
        """Signs in; returns where the console sends them first."""
        page = await (await self.http.get("/login")).text()
        match = LOGIN_CSRF.search(page)
        assert match is not None
        form = {"csrf_token": match.group(1), "username": username, "password": password}
        response = await self.http.post("/login", data=form, allow_redirects=False)
        assert response.status == 303, await response.text()
        landing = await self.http.get("/console/workbench")
        csrf = META_CSRF.search(await landing.text())
        assert csrf is not None
        self.csrf = csrf.group(1)
        return landing.url.path

    async def json(self, path: str, status: int = 200) -> Any:
        response = await self.http.get(path)
        assert response.status == status, await response.text()
        return await response.json()

    async def send(self, method: str, path: str, body: Any = None) -> ClientResponse:
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf}
        return await self.http.request(
            method, path, data=json.dumps(body if body is not None else {}), headers=headers
        )


PersonFactory = Callable[[str, str], Awaitable[Person]]


@pytest.fixture
async def person(client: TestClient[Any, Any]) -> AsyncIterator[PersonFactory]:
    people: list[Person] = []

    async def signed_in(username: str, password: str = PASSWORD) -> Person:
        someone = Person(client)
        people.append(someone)
        await someone.sign_in(username, password)
        return someone

    yield signed_in
    for someone in people:
        await someone.http.close()


async def staff(sessions: SessionFactory, shop_id: str, username: str, role: UserRole) -> None:
    await create_user(sessions, shop_id=shop_id, username=username, role=role, password=PASSWORD)


async def test_an_admin_seats_an_agent_who_works_and_is_deactivated(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await staff(sessions, shop_id, "boss", UserRole.ADMIN)
    admin = await person("boss", PASSWORD)
    response = await admin.send(
        "POST",
        "/api/v1/admin/users",
        {
            "username": "xiaomei",
            "display_name": "小美",
            "role": "agent",
            "agent": {"service_roles": ["refund", "presales"], "chat_capacity": 3},
        },
    )
    assert response.status == 201, await response.text()
    added = await response.json()
    one_time = added["one_time_password"]
    assert added["user"]["agent"]["service_roles"] == ["refund", "presales"]
    assert added["user"]["agent"]["chat_capacity"] == 3
    assert added["user"]["must_change_password"] is True

    # The one-time password opens only the password change.
    agent = Person(client)
    try:
        landing = await agent.sign_in("xiaomei", one_time)
        assert landing == "/console/account/password"
        refused = await agent.send("POST", "/api/v1/workbench/status", {"status": "online"})
        assert refused.status == 403
        assert "one-time password" in (await refused.json())["error"]
        same = await agent.send(
            "POST",
            "/api/v1/account/password",
            {"current_password": one_time, "new_password": one_time},
        )
        assert (await same.json())["field"] == "new_password"
        changed = await agent.send(
            "POST",
            "/api/v1/account/password",
            {"current_password": one_time, "new_password": "my-own-password"},
        )
        assert changed.status == 200, await changed.text()

        online = await agent.send("POST", "/api/v1/workbench/status", {"status": "online"})
        assert online.status == 200, await online.text()
        await post_event(
            client, "message.received", {"buyer_nick": "小鱼", "text": "东西坏了 我要退款"}
        )
        await settle(client)
        (row,) = (await agent.json("/api/v1/workbench"))["conversations"]
        assert row["role"] == "refund"

        team = (await admin.json("/api/v1/admin/users"))["users"]
        xiaomei = next(user for user in team if user["username"] == "xiaomei")
        gone = await admin.send("POST", f"/api/v1/admin/users/{xiaomei['id']}/deactivate")
        assert gone.status == 200, await gone.text()
        assert (await gone.json())["requeued"] == [row["id"]]

        # Their session ends at once; the chat is back in the queue.
        assert (await agent.http.get("/api/v1/workbench")).status == 401
        async with sessions() as session:
            conversation = await session.get(Conversation, row["id"])
            assert conversation is not None
            assert conversation.status is ConversationStatus.QUEUED
            assert conversation.assigned_agent_id is None
        again = Person(client)
        page = await (await again.http.get("/login")).text()
        match = LOGIN_CSRF.search(page)
        assert match is not None
        form = {"csrf_token": match.group(1), "username": "xiaomei", "password": "my-own-password"}
        assert (await again.http.post("/login", data=form, allow_redirects=False)).status != 303
        await again.http.close()
    finally:
        await agent.http.close()

    audit = (await admin.json("/api/v1/admin/audit?action=user."))["entries"]
    actions = [entry["action"] for entry in audit]
    assert actions[:3] == ["user.deactivated", "user.password_changed", "user.created"]
    assert all(entry["action"].startswith("user.") for entry in audit)


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "agent"}, "username"),
        ({"username": "a b", "role": "agent"}, "username"),
        ({"username": "lin", "role": "chef"}, "role"),
        (
            {"username": "lin", "role": "agent", "agent": {"service_roles": ["refnd"]}},
            "agent.service_roles",
        ),
        (
            {"username": "lin", "role": "agent", "agent": {"chat_capacity": 99}},
            "agent.chat_capacity",
        ),
        ({"username": "lin", "role": "agent", "agent": {"chat_capacity": "5"}}, "chat_capacity"),
        ({"username": "lin", "role": "owner", "agent": {"chat_capacity": 2}}, "agent"),
        ({"username": "boss", "role": "agent"}, "username"),
    ],
)
async def test_bad_input_names_the_field_and_stores_nothing(
    sessions: SessionFactory, shop_id: str, person: PersonFactory, body: dict[str, Any], field: str
) -> None:
    await staff(sessions, shop_id, "boss", UserRole.ADMIN)
    admin = await person("boss", PASSWORD)
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(User))
        audits = await session.scalar(select(func.count()).select_from(AuditLog))
    response = await admin.send("POST", "/api/v1/admin/users", body)
    assert response.status in (400, 409), await response.text()
    assert (await response.json())["field"] == field
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == before
        assert await session.scalar(select(func.count()).select_from(AuditLog)) == audits


@SQLITE_ONLY
async def test_who_may_read_and_change_the_team(
    sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await staff(sessions, shop_id, "lead", UserRole.SUPERVISOR)
    await staff(sessions, shop_id, "shopowner", UserRole.OWNER)
    await staff(sessions, shop_id, "root", UserRole.ADMIN)
    await staff(sessions, shop_id, "qc", UserRole.QC_INSPECTOR)
    lead = await person("lead", PASSWORD)
    assert len((await lead.json("/api/v1/admin/users"))["users"]) == 4
    denied = await lead.send("POST", "/api/v1/admin/users", {"username": "x1", "role": "agent"})
    assert denied.status == 403
    qc = await person("qc", PASSWORD)
    await qc.json("/api/v1/admin/users", status=403)
    assert (await qc.http.get("/console/admin/users")).status == 403
    owner = await person("shopowner", PASSWORD)
    made_admin = await owner.send(
        "POST", "/api/v1/admin/users", {"username": "x2", "role": "admin"}
    )
    assert made_admin.status == 403
    users = (await owner.json("/api/v1/admin/users"))["users"]
    root_id = next(u["id"] for u in users if u["username"] == "root")
    assert (await owner.send("POST", f"/api/v1/admin/users/{root_id}/deactivate")).status == 403
    owner_id = next(u["id"] for u in users if u["username"] == "shopowner")
    assert (await owner.send("POST", f"/api/v1/admin/users/{owner_id}/deactivate")).status == 409
    for path in ("/console/admin/users", "/console/admin/audit", "/console/account"):
        assert (await owner.http.get(path)).status == 200, path


@SQLITE_ONLY
async def test_an_agent_profile_is_edited_and_audited(
    sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await staff(sessions, shop_id, "root", UserRole.ADMIN)
    admin = await person("root", PASSWORD)
    added = await (
        await admin.send("POST", "/api/v1/admin/users", {"username": "li", "role": "agent"})
    ).json()
    user_id = added["user"]["id"]
    assert added["user"]["agent"]["service_roles"] == ["presales"]
    assert added["user"]["agent"]["chat_capacity"] == 5
    path = f"/api/v1/admin/users/{user_id}/agent"
    bad = await admin.send("PUT", path, {"chat_capacity": -1})
    assert (bad.status, (await bad.json())["field"]) == (400, "chat_capacity")
    response = await admin.send(
        "PUT",
        path,
        {
            "service_roles": ["hotline"],
            "skills": ["vip"],
            "hotline_capacity": 2,
            "auto_suspend_at": 4,
            "trainee": True,
        },
    )
    assert response.status == 200, await response.text()
    agent = (await response.json())["agent"]
    assert agent == {
        "service_roles": ["hotline"],
        "skills": ["vip"],
        "chat_capacity": 5,
        "hotline_capacity": 2,
        "auto_suspend_at": 4,
        "trainee": True,
        "status": "offline",
    }
    async with sessions() as session:
        profile = await session.get(AgentProfile, user_id)
        assert profile is not None
        assert profile.trainee is True
    (entry,) = (await admin.json(f"/api/v1/admin/audit?action=agent.updated&target_id={user_id}"))[
        "entries"
    ]
    assert entry["detail"]["service_roles"] == [["presales"], ["hotline"]]
    csv_response = await admin.http.get("/api/v1/admin/audit.csv?action=agent.updated")
    assert csv_response.content_type == "text/csv"
    lines = (await csv_response.text()).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,at,actor_username,action")
    assert len(lines) == 2
    assert "agent.updated" in lines[1]
    bad_date = await admin.http.get("/api/v1/admin/audit?since=yesterday")
    assert (bad_date.status, (await bad_date.json())["field"]) == (400, "since")

    reset = await admin.send("POST", f"/api/v1/admin/users/{user_id}/password-reset")
    assert len((await reset.json())["one_time_password"]) >= 12


@SQLITE_ONLY
async def test_my_tokens_and_sessions(
    client: TestClient[Any, Any], sessions: SessionFactory, shop_id: str, person: PersonFactory
) -> None:
    await staff(sessions, shop_id, "xiaowang", UserRole.AGENT)
    first = await person("xiaowang", PASSWORD)
    second = await person("xiaowang", PASSWORD)
    issued = await first.send("POST", "/api/v1/account/tokens", {"name": "ERP 同步"})
    assert issued.status == 201
    token = (await issued.json())["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status == 200
    nameless = await first.send("POST", "/api/v1/account/tokens", {"name": " "})
    assert (await nameless.json())["field"] == "name"
    mine = await first.json("/api/v1/account")
    (listed,) = mine["tokens"]
    assert listed["name"] == "ERP 同步"
    assert [s["current"] for s in mine["sessions"]].count(True) == 1
    assert len(mine["sessions"]) == 2
    revoked = await first.send("DELETE", f"/api/v1/account/tokens/{listed['id']}")
    assert revoked.status == 200
    assert (await client.get("/api/v1/me", headers=bearer)).status == 401
    ended = await first.send("POST", "/api/v1/account/sessions/sign-out-others")
    assert (await ended.json())["ended"] == 1
    assert (await second.http.get("/api/v1/me")).status == 401
    assert (await first.http.get("/api/v1/me")).status == 200
