"""Team administration and my account over JSON (the console's admin pages use these).

``/api/v1/admin/users...``: supervisors read the team; owners and admins add colleagues
(with a one-time password shown once), change roles, seat agents (service roles, skills,
capacities, 自动挂起, trainee), reset passwords, deactivate and reactivate.
``/api/v1/admin/audit`` (and ``.csv``): the audit log with filters.
``/api/v1/account...``: my password, my sessions (sign out the others), my API tokens.
Every change is audited by its action; bad input is a 400 naming the field, nothing stored.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import team
from csdesk.actions.users import MAX_DISPLAY_NAME
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser, current_user
from csdesk.auth.sessions import SESSION_COOKIE
from csdesk.clock import utcnow
from csdesk.errors import BadInputError, NotFoundError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import team as team_reads
from csdesk.storage.enums import ServiceRole, UserRole
from csdesk.web.openapi import (
    MAX_ID,
    NONBLANK,
    STR,
    documented,
    int_range,
    obj,
    operation,
    path_param,
    query,
    text_up_to,
)
from csdesk.web.request import WHEN_SCHEMA, deps_of, json_body, query_int, query_when

routes = web.RouteTableDef()

USERS_PATH: Final = "/api/v1/admin/users"
AUDIT_PATH: Final = "/api/v1/admin/audit"
ACCOUNT_PATH: Final = "/api/v1/account"

# -- parsing -------------------------------------------------------------------------------


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise NotFoundError(f"user {raw}: not found", field="user_id")
    return int(raw)


def _string(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadInputError(name, "is required (必填)")
        return None
    if not isinstance(value, str):
        raise BadInputError(name, "must be a string")
    if required and not value.strip():
        raise BadInputError(name, "is required (必填)")
    return value


def _required(data: dict[str, Any], name: str) -> str:
    value = _string(data, name, required=True)
    if value is None:  # _string refuses it; this tells mypy
        raise BadInputError(name, "is required (必填)")
    return value


def _role(data: dict[str, Any], *, required: bool) -> UserRole | None:
    raw = _string(data, "role", required=required)
    if raw is None:
        return None
    try:
        return UserRole(raw)
    except ValueError:
        choices = ", ".join(role.value for role in UserRole)
        raise BadInputError("role", f"must be one of {choices}") from None


def _string_list(data: dict[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return list(team.split_list(value))
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadInputError(name, "must be a list of strings")
    return value


def _int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInputError(name, "must be a whole number")
    return value


def _bool(data: dict[str, Any], name: str) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadInputError(name, "must be true or false")
    return value


def _agent_setup(raw: object) -> team.AgentSetup:
    data = raw if isinstance(raw, dict) else {}
    if raw is not None and not isinstance(raw, dict):
        raise BadInputError("agent", "must be an object")
    roles = _string_list(data, "service_roles")
    skills = _string_list(data, "skills")
    chat = _int(data, "chat_capacity")
    hotline = _int(data, "hotline_capacity")
    return team.AgentSetup(
        service_roles=team.parse_service_roles(roles, field="agent.service_roles")
        if roles is not None
        else team.DEFAULT_SERVICE_ROLES,
        skills=team.parse_skills(skills, field="agent.skills") if skills is not None else (),
        chat_capacity=team.check_capacity(
            chat if chat is not None else team.DEFAULT_CHAT_CAPACITY,
            field="agent.chat_capacity",
            top=team.MAX_CHAT_CAPACITY,
        ),
        hotline_capacity=team.check_capacity(
            hotline if hotline is not None else 1,
            field="agent.hotline_capacity",
            top=team.MAX_HOTLINE_CAPACITY,
        ),
    )


def _agent_changes(data: dict[str, Any]) -> team.AgentChanges:
    roles = _string_list(data, "service_roles")
    skills = _string_list(data, "skills")
    auto_suspend_default = "auto_suspend_at" in data and data["auto_suspend_at"] is None
    return team.AgentChanges(
        service_roles=team.parse_service_roles(roles) if roles is not None else None,
        skills=team.parse_skills(skills) if skills is not None else None,
        chat_capacity=_int(data, "chat_capacity"),
        hotline_capacity=_int(data, "hotline_capacity"),
        auto_suspend_at=_int(data, "auto_suspend_at"),
        auto_suspend_default=auto_suspend_default,
        trainee=_bool(data, "trainee"),
    )


def _audit_filter(request: web.Request) -> team_reads.AuditFilter:
    def text(name: str, limit: int = 64) -> str | None:
        value = request.query.get(name, "").strip()
        if len(value) > limit:
            raise BadInputError(name, f"must be at most {limit} characters")
        return value or None

    since, until = query_when(request, "since"), query_when(request, "until")
    if since and until and until <= since:
        raise BadInputError("until", "must be after since")
    return team_reads.AuditFilter(
        action=text("action"),
        actor=text("actor"),
        target_type=text("target_type", 32),
        target_id=text("target_id"),
        since=since,
        until=until,
        before_id=query_int(request, "before_id", low=1, high=2**63 - 1),
    )


def _admin(request: web.Request) -> CurrentUser:
    user = current_user(request)
    require(user, team_reads.TEAM_ADMIN)
    return user


async def _member_answer(request: web.Request, user: CurrentUser, user_id: int) -> web.Response:
    found = await team_reads.member(request.app[SESSIONS_KEY], user, user_id)
    if found is None:
        raise NotFoundError(f"user {user_id}: not found", field="user_id")
    return web.json_response(found)


# -- OpenAPI wording -------------------------------------------------------------------------------

_ERRORS: Final = {
    "400": "bad input; `field` names it, nothing was stored",
    "401": "not signed in",
    "403": "your role may not do this (or change your one-time password first)",
    "404": "no such user or token in your shop",
    "409": "not now: already in that state, or your own login",
}
_WRITE: Final = ("400", "401", "403", "404", "409")
_ROLE: Final = {"enum": [role.value for role in UserRole]}
_SERVICE_ROLES: Final = {
    "type": "array",
    "items": {"enum": [role.value for role in ServiceRole]},
    "minItems": 1,
}
_SKILLS: Final = {
    "type": "array",
    "items": {"type": "string", "maxLength": team.MAX_SKILL_CHARS},
    "maxItems": team.MAX_SKILLS,
}
_USERNAME: Final = {
    "type": "string",
    "pattern": "^\\s*\\w[\\w.@:-]{1,63}\\s*$",
    "description": "2-64 letters, digits and . _ @ : -, starting with a letter or digit "
    "(compared case-insensitively, NFKC)",
}
_DISPLAY_NAME: Final = {**NONBLANK, "description": f"cut to {MAX_DISPLAY_NAME} characters"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field: null means "left out" (``_string``, ``_int``, ``_bool``)."""
    return {"anyOf": [schema, {"type": "null"}]}


def _list_or_text(schema: dict[str, Any]) -> dict[str, Any]:
    """A list, or the same items in one comma-separated text (``team.split_list``)."""
    return {"anyOf": [schema, {"type": "string"}, {"type": "null"}]}


_AGENT_FIELDS: Final = {
    "service_roles": _list_or_text(_SERVICE_ROLES),
    "skills": _list_or_text(_SKILLS),
    "chat_capacity": _nullable(int_range(0, team.MAX_CHAT_CAPACITY)),
    "hotline_capacity": _nullable(int_range(0, team.MAX_HOTLINE_CAPACITY)),
}
_AGENT: Final = {**obj([], **_AGENT_FIELDS), "type": ["object", "null"]}
_AGENT_EDIT: Final = obj(
    [],
    **_AGENT_FIELDS,
    auto_suspend_at=_nullable(int_range(0, team.MAX_CHAT_CAPACITY)),
    trainee=_nullable({"type": "boolean"}),
)
_USER_ID: Final = [path_param("user_id")]
_WHEN: Final = WHEN_SCHEMA
_AUDIT_QUERY: Final = [
    query("action", text_up_to(64)),
    query("actor", text_up_to(64)),
    query("target_type", text_up_to(32)),
    query("target_id", text_up_to(64)),
    query("since", _WHEN),
    query("until", _WHEN),
    query("before_id", int_range(1, MAX_ID)),
]


def _op(summary: str, *, errors: tuple[str, ...] = _WRITE, **kwargs: Any) -> dict[str, Any]:
    return operation(summary, error_text=_ERRORS, errors=errors, **kwargs)


# -- team ----------------------------------------------------------------------------------


@routes.get(USERS_PATH)
@documented(
    _op("The shop's members with their agent profiles (supervisors and up)", errors=("401", "403"))
)
async def list_users(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    return web.json_response({"users": await team_reads.members(request.app[SESSIONS_KEY], user)})


@routes.post(USERS_PATH)
@documented(
    _op(
        "Add a colleague (owners and admins): answers the one-time password once; "
        "an agent gets a profile (default service role presales, 5 chats)",
        ok_status="201",
        body=obj(
            ["username", "role"],
            username=_USERNAME,
            role=_ROLE,
            display_name=_nullable(STR),
            agent=_AGENT,
        ),
    )
)
async def add_user(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    data = await json_body(request)
    username = _required(data, "username")
    role = _role(data, required=True)
    assert role is not None
    agent = _agent_setup(data.get("agent")) if role is UserRole.AGENT else None
    if role is not UserRole.AGENT and data.get("agent") is not None:
        raise BadInputError("agent", "only an agent has service roles and capacities")
    member, password = await team.create_with_one_time_password(
        request.app[SESSIONS_KEY],
        actor,
        username=username,
        role=role,
        display_name=_string(data, "display_name"),
        agent=agent,
        now=utcnow(),
    )
    found = await team_reads.member(request.app[SESSIONS_KEY], actor, member.user_id)
    return web.json_response({"user": found, "one_time_password": password}, status=201)


@routes.get(USERS_PATH + "/{user_id}")
@documented(_op("One member", errors=("401", "403", "404"), params=_USER_ID))
async def get_user(request: web.Request) -> web.StreamResponse:
    return await _member_answer(request, current_user(request), _user_id(request))


@routes.patch(USERS_PATH + "/{user_id}")
@documented(
    _op(
        "Change a member's role or shown name",
        params=_USER_ID,
        body=obj([], role=_nullable(_ROLE), display_name=_nullable(_DISPLAY_NAME)),
    )
)
async def patch_user(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    user_id = _user_id(request)
    data = await json_body(request)
    await team.update_member(
        request.app[SESSIONS_KEY],
        actor,
        user_id,
        utcnow(),
        role=_role(data, required=False),
        display_name=_string(data, "display_name"),
    )
    return await _member_answer(request, actor, user_id)


@routes.put(USERS_PATH + "/{user_id}/agent")
@documented(
    _op("Edit an agent's profile (fields left out stay)", params=_USER_ID, body=_AGENT_EDIT)
)
async def put_agent(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    user_id = _user_id(request)
    changes = _agent_changes(await json_body(request))
    await team.update_agent(deps_of(request), actor, user_id, changes, utcnow())
    return await _member_answer(request, actor, user_id)


@routes.post(USERS_PATH + "/{user_id}/deactivate")
@documented(
    _op(
        "Deactivate: sessions and tokens end at once, open conversations go back "
        "to the queue (`requeued`)",
        params=_USER_ID,
    )
)
async def deactivate_user(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    await json_body(request, empty={})  # nothing to read, but a malformed body is 400
    requeued = await team.deactivate(deps_of(request), actor, _user_id(request), utcnow())
    return web.json_response({"deactivated": True, "requeued": requeued})


@routes.post(USERS_PATH + "/{user_id}/reactivate")
@documented(_op("Reactivate with a new one-time password", params=_USER_ID))
async def reactivate_user(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    await json_body(request, empty={})  # nothing to read, but a malformed body is 400
    password = await team.reactivate(request.app[SESSIONS_KEY], actor, _user_id(request), utcnow())
    return web.json_response({"one_time_password": password})


@routes.post(USERS_PATH + "/{user_id}/password-reset")
@documented(_op("A new one-time password; the member's sessions end", params=_USER_ID))
async def reset_user_password(request: web.Request) -> web.StreamResponse:
    actor = _admin(request)
    await json_body(request, empty={})  # nothing to read, but a malformed body is 400
    password = await team.reset_password(
        request.app[SESSIONS_KEY], actor, _user_id(request), utcnow()
    )
    return web.json_response({"one_time_password": password})


# -- audit log -----------------------------------------------------------------------------


@routes.get(AUDIT_PATH)
@documented(
    _op(
        "The audit log, newest first, filtered",
        errors=("400", "401", "403"),
        params=[*_AUDIT_QUERY, query("limit", int_range(1, team_reads.MAX_AUDIT_ROWS))],
    )
)
async def audit(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    limit = query_int(request, "limit", low=1, high=team_reads.MAX_AUDIT_ROWS, default=100)
    rows = await team_reads.audit_rows(
        request.app[SESSIONS_KEY], user, _audit_filter(request), limit=limit
    )
    return web.json_response({"entries": rows})


@routes.get(AUDIT_PATH + ".csv")
@documented(
    _op(
        "The filtered audit log as CSV",
        errors=("400", "401", "403"),
        params=_AUDIT_QUERY,
        ok_content={"text/csv": {"type": "string"}},
    )
)
async def audit_csv(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    rows = await team_reads.audit_rows(
        request.app[SESSIONS_KEY],
        user,
        _audit_filter(request),
        limit=team_reads.MAX_AUDIT_EXPORT,
    )
    return web.Response(
        text=team_reads.audit_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="csdesk-audit.csv"'},
    )


# -- my account ----------------------------------------------------------------------------


@routes.get(ACCOUNT_PATH)
@documented(_op("Me, my live sessions and my API tokens", errors=("401",)))
async def account(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    sessions = request.app[SESSIONS_KEY]
    return web.json_response(
        {
            "me": {
                "id": me.id,
                "username": me.username,
                "display_name": me.display_name,
                "role": me.role.value,
                "must_change_password": me.must_change_password,
            },
            "sessions": await team_reads.my_sessions(
                sessions, me, request.cookies.get(SESSION_COOKIE), utcnow()
            ),
            "tokens": await team_reads.my_tokens(sessions, me),
        }
    )


@routes.post(ACCOUNT_PATH + "/password")
@documented(
    _op(
        "Change my password (a one-time one too); my other sessions end",
        errors=("400", "401"),
        body=obj(
            ["current_password", "new_password"], current_password=NONBLANK, new_password=NONBLANK
        ),
    )
)
async def change_password(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    require(me, team_reads.ACCOUNT_USE)
    data = await json_body(request)
    current = _required(data, "current_password")
    new = _required(data, "new_password")
    await team.change_own_password(
        request.app[SESSIONS_KEY],
        me,
        current=current,
        new=new,
        keep_session_key=request.cookies.get(SESSION_COOKIE),
        now=utcnow(),
    )
    return web.json_response({"changed": True})


@routes.post(ACCOUNT_PATH + "/sessions/sign-out-others")
@documented(_op("End my other sessions", errors=("400", "401", "403")))
async def sign_out_others(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    require(me, team_reads.ACCOUNT_USE)
    await json_body(request, empty={})
    ended = await team.sign_out_others(
        request.app[SESSIONS_KEY], me, request.cookies.get(SESSION_COOKIE), utcnow()
    )
    return web.json_response({"ended": ended})


@routes.post(ACCOUNT_PATH + "/tokens")
@documented(
    _op(
        "Issue a named API token (shown once)",
        ok_status="201",
        errors=("400", "401", "403"),
        body=obj(["name"], name={**NONBLANK, "maxLength": team.MAX_TOKEN_NAME}),
    )
)
async def issue_token(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    require(me, team_reads.ACCOUNT_USE)
    name = _required(await json_body(request), "name")
    token_id, token = await team.issue_my_token(request.app[SESSIONS_KEY], me, name, utcnow())
    return web.json_response({"id": token_id, "name": name.strip(), "token": token}, status=201)


@routes.delete(ACCOUNT_PATH + "/tokens/{token_id}")
@documented(
    _op(
        "Revoke one of my tokens",
        errors=("401", "403", "404", "409"),
        params=[path_param("token_id")],
    )
)
async def revoke_token(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    require(me, team_reads.ACCOUNT_USE)
    raw = request.match_info["token_id"]
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise NotFoundError(f"token {raw}: not found", field="token_id")
    await team.revoke_my_token(request.app[SESSIONS_KEY], me, int(raw), utcnow())
    return web.json_response({"revoked": True})
