"""Teams (班组) and their supervisors over JSON: supervisors and up read them; owners and
admins create, rename, delete and set members (``lead``: the team's supervisors)."""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import teams
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import team as team_reads
from csdesk.web.openapi import documented, nonblank, obj, op
from csdesk.web.request import is_id, json_body, path_id

routes = web.RouteTableDef()

TEAMS_PATH: Final = "/api/v1/admin/teams"
_TEAM_ID = [{"name": "team_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_WRITE = ("400", "401", "403", "404", "409")


def _name(data: dict[str, Any]) -> str:
    value = data.get("name")
    if not isinstance(value, str):
        raise BadInputError("name", "is required (必填)")
    return value


@routes.get(TEAMS_PATH)
@documented(op("The shop's teams with members and supervisors (lead)", errors=("401", "403")))
async def list_teams(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response({"teams": await team_reads.teams(request.app[SESSIONS_KEY], user)})


@routes.post(TEAMS_PATH)
@documented(
    op(
        "Create a team (owners and admins)",
        ok_status="201",
        errors=_WRITE,
        body=obj(["name"], name=nonblank(teams.MAX_TEAM_NAME)),
    )
)
async def post_team(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, teams.TEAM_ADMIN)
    name = _name(await json_body(request))
    team_id = await teams.create_team(request.app[SESSIONS_KEY], user, name, utcnow())
    return web.json_response({"id": team_id}, status=201)


@routes.patch(TEAMS_PATH + "/{team_id}")
@documented(
    op(
        "Rename a team",
        errors=_WRITE,
        params=_TEAM_ID,
        body=obj(["name"], name=nonblank(teams.MAX_TEAM_NAME)),
    )
)
async def patch_team(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, teams.TEAM_ADMIN)
    team_id = path_id(request, "team_id")
    name = _name(await json_body(request))
    await teams.rename_team(request.app[SESSIONS_KEY], user, team_id, name, utcnow())
    return web.json_response({"id": team_id})


@routes.delete(TEAMS_PATH + "/{team_id}")
@documented(op("Delete a team (its people stay)", errors=_WRITE, params=_TEAM_ID))
async def delete_team(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, teams.TEAM_ADMIN)
    team_id = path_id(request, "team_id")
    await teams.delete_team(request.app[SESSIONS_KEY], user, team_id, utcnow())
    return web.json_response({"id": team_id, "deleted": True})


@routes.put(TEAMS_PATH + "/{team_id}/members")
@documented(
    op(
        "Set a team's members: [{user_id, lead}] (lead: a supervisor of the team)",
        errors=_WRITE,
        params=_TEAM_ID,
        body=obj(["members"], members={"type": "array", "items": {"type": "object"}}),
    )
)
async def put_members(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, teams.TEAM_ADMIN)
    team_id = path_id(request, "team_id")
    raw = (await json_body(request)).get("members")
    if not isinstance(raw, list):
        raise BadInputError("members", "must be a list of {user_id, lead}")
    members: list[teams.Membership] = []
    for item in raw:
        if not isinstance(item, dict) or not is_id(item.get("user_id")):
            raise BadInputError("members", "each member needs a user_id")
        lead = item.get("lead", False)
        if not isinstance(lead, bool):
            raise BadInputError("members", "lead must be true or false")
        members.append(teams.Membership(int(item["user_id"]), lead))
    await teams.set_members(request.app[SESSIONS_KEY], user, team_id, members, utcnow())
    return web.json_response({"id": team_id, "members": len(members)})
