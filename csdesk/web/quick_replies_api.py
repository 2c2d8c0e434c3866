"""The quick-reply library (快捷短语) and its images over HTTP.

``/api/v1/quick-replies...``: the library page reads every group with its use counts;
supervisors and up change shop-wide groups and phrases, everyone at a workbench keeps
personal phrases and hotkeys (Alt+1 … Alt+9). ``/api/v1/media``: an image upload (the raw
image as the body, checked by its bytes) and the image itself, served so that nothing in
it can run (``nosniff``, a Content-Disposition with a safe name, a CSP of ``default-src
'none'``). Handlers parse, call one action or read, answer.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web

from csdesk.actions import media as media_actions
from csdesk.actions import quick_replies as library
from csdesk.actions.quick_replies import PhraseRef
from csdesk.auth.access import require
from csdesk.auth.current import current_user
from csdesk.clock import utcnow
from csdesk.errors import BadInputError, NotFoundError
from csdesk.keys import SESSIONS_KEY
from csdesk.reads import quick_replies as reads
from csdesk.storage.enums import ServiceRole
from csdesk.web.openapi import (
    ID,
    SECURED,
    STR,
    documented,
    error_answer,
    int_range,
    json_answer,
    nonblank,
    obj,
    op,
)
from csdesk.web.request import json_body, optional_int, path_id

routes = web.RouteTableDef()

BASE: Final = "/api/v1/quick-replies"
MEDIA: Final = "/api/v1/media"
MEDIA_CSP: Final = "default-src 'none'; sandbox; frame-ancestors 'none'"
"""An image opened on its own runs nothing and sits in no frame of another site."""
_INT = ID
_GROUP_ID = {"name": "group_id", "in": "path", "required": True, "schema": ID}
_PHRASE_ID = {"name": "phrase_id", "in": "path", "required": True, "schema": ID}
_SLOT = {"name": "slot", "in": "path", "required": True, "schema": int_range(1, 9)}
_ROLES = {
    "type": ["array", "null"],
    "items": {"enum": [role.value for role in ServiceRole]},
}
_GROUP_NAME = nonblank(library.MAX_GROUP_CHARS)
_CODE = {
    "type": "string",
    "pattern": f"^\\s*/*[0-9A-Za-z]{{1,{library.MAX_CODE_CHARS}}}\\s*$",
    "description": "the shortcut typed after /: letters and digits",
}
_TEXT = nonblank(library.MAX_PHRASE_CHARS)
_WRITE = ("400", "401", "403", "404", "409")


def _string(data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise BadInputError(name, "is required (必填)")
        return None
    if not isinstance(value, str):
        raise BadInputError(name, "must be a string")
    return value


def _roles(data: dict[str, Any]) -> list[str] | None:
    value = data.get("roles")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError("roles", "must be a list of service roles")
    # Checked here for every group (a personal group ignores them, but a typo is a typo).
    return library.check_roles(value)


def phrase_ref(data: dict[str, Any], field: str = "quick_reply") -> PhraseRef | None:
    """``{"id": 12}`` or ``{"code": "hy"}`` (a built-in phrase not stored yet), or null."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadInputError(field, 'must be {"id": N} or {"code": "..."}')
    phrase_id = optional_int(value, "id")
    code = value.get("code")
    if phrase_id is None and not (isinstance(code, str) and code):
        raise BadInputError(field, 'must be {"id": N} or {"code": "..."}')
    return PhraseRef(phrase_id, code if phrase_id is None and isinstance(code, str) else None)


# -- the library --------------------------------------------------------------------------------


@routes.get(BASE + "/library")
@documented(op("Every group I may see (shop-wide for every role, mine), with use counts"))
async def get_library(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, library.USE)
    data = await reads.quick_reply_library(
        request.app[SESSIONS_KEY], user, utcnow(), every_role=True
    )
    return web.json_response(data)


@routes.post(BASE + "/library/store")
@documented(
    op(
        "Keep the built-in library as the shop's own (supervisors and up), so it can be "
        "edited; does nothing once stored",
        errors=("401", "403"),
    )
)
async def post_store_library(request: web.Request) -> web.Response:
    user = current_user(request)
    stored = await library.store_library(request.app[SESSIONS_KEY], user, utcnow())
    return web.json_response({"stored": True, "copied": stored})


@routes.post(BASE + "/groups")
@documented(
    op(
        "Add a group: shop-wide (supervisors and up; roles that see it, none = all) or mine",
        ok_status="201",
        errors=_WRITE,
        body=obj(
            ["name", "scope"],
            name=_GROUP_NAME,
            scope={"enum": ["shop", "personal"]},
            roles=_ROLES,
        ),
    )
)
async def post_group(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, library.USE)
    data = await json_body(request)
    scope = data.get("scope")
    if scope not in ("shop", "personal"):
        raise BadInputError("scope", "must be shop or personal")
    group_id = await library.add_group(
        request.app[SESSIONS_KEY],
        user,
        _string(data, "name", required=True) or "",
        utcnow(),
        personal=scope == "personal",
        roles=_roles(data) or (),
    )
    return web.json_response({"id": group_id}, status=201)


@routes.patch(BASE + "/groups/{group_id:[0-9]+}")
@documented(
    op(
        "Rename a group or change the roles that see it",
        errors=_WRITE,
        params=[_GROUP_ID],
        body=obj([], name={"anyOf": [_GROUP_NAME, {"type": "null"}]}, roles=_ROLES),
    )
)
async def patch_group(request: web.Request) -> web.Response:
    user = current_user(request)
    group_id = path_id(request, "group_id")
    data = await json_body(request)
    await library.update_group(
        request.app[SESSIONS_KEY],
        user,
        group_id,
        utcnow(),
        name=_string(data, "name"),
        roles=_roles(data),
    )
    return web.json_response({"id": group_id})


@routes.delete(BASE + "/groups/{group_id:[0-9]+}")
@documented(op("Delete a group with its phrases", errors=_WRITE, params=[_GROUP_ID]))
async def delete_group(request: web.Request) -> web.Response:
    user = current_user(request)
    group_id = path_id(request, "group_id")
    await library.delete_group(request.app[SESSIONS_KEY], user, group_id, utcnow())
    return web.json_response({"id": group_id, "deleted": True})


@routes.post(BASE)
@documented(
    op(
        "Add a phrase to a group (group_id), or to my personal group named personal_group "
        "(made when missing; default 我的短语)",
        ok_status="201",
        errors=_WRITE,
        body=obj(
            ["code", "text"],
            code=_CODE,
            text=_TEXT,
            group_id=ID,
            personal_group={"type": ["string", "null"], "maxLength": library.MAX_GROUP_CHARS},
            image_id=ID,
        ),
    )
)
async def post_phrase(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, library.USE)
    data = await json_body(request)
    phrase_id = await library.add_phrase(
        request.app[SESSIONS_KEY],
        user,
        utcnow(),
        code=_string(data, "code", required=True) or "",
        text=_string(data, "text", required=True) or "",
        group_id=optional_int(data, "group_id"),
        personal_group=_string(data, "personal_group"),
        image_id=optional_int(data, "image_id"),
    )
    return web.json_response({"id": phrase_id}, status=201)


@routes.patch(BASE + "/{phrase_id:[0-9]+}")
@documented(
    op(
        "Change a phrase (code, text, group, image; image_id null removes the image)",
        errors=_WRITE,
        params=[_PHRASE_ID],
        body=obj(
            [],
            code={"anyOf": [_CODE, {"type": "null"}]},
            text={"anyOf": [_TEXT, {"type": "null"}]},
            group_id={"anyOf": [ID, {"type": "null"}]},
            image_id={"anyOf": [ID, {"type": "null"}]},
        ),
    )
)
async def patch_phrase(request: web.Request) -> web.Response:
    user = current_user(request)
    phrase_id = path_id(request, "phrase_id")
    data = await json_body(request)
    await library.update_phrase(
        request.app[SESSIONS_KEY],
        user,
        phrase_id,
        utcnow(),
        code=_string(data, "code"),
        text=_string(data, "text"),
        group_id=optional_int(data, "group_id"),
        set_image="image_id" in data,
        image_id=optional_int(data, "image_id"),
    )
    return web.json_response({"id": phrase_id})


@routes.delete(BASE + "/{phrase_id:[0-9]+}")
@documented(op("Delete a phrase", errors=_WRITE, params=[_PHRASE_ID]))
async def delete_phrase(request: web.Request) -> web.Response:
    user = current_user(request)
    phrase_id = path_id(request, "phrase_id")
    await library.delete_phrase(request.app[SESSIONS_KEY], user, phrase_id, utcnow())
    return web.json_response({"id": phrase_id, "deleted": True})


@routes.put(BASE + "/hotkeys/{slot}")
@documented(
    op(
        "Put a phrase on my hotkey Alt+slot (1-9); quick_reply null empties the slot",
        errors=_WRITE,
        params=[_SLOT],
        body=obj(
            ["quick_reply"],
            quick_reply={
                "anyOf": [
                    {"type": "null"},
                    obj(["id"], id=ID),
                    obj(["code"], code={"type": "string", "minLength": 1}),
                ]
            },
        ),
    )
)
async def put_hotkey(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, library.USE)
    raw = request.match_info["slot"]
    if not (raw.isascii() and raw.isdigit()):
        raise BadInputError("slot", "must be a whole number from 1 to 9")
    data = await json_body(request)
    if "quick_reply" not in data:
        raise BadInputError("quick_reply", "is required (null empties the slot)")
    phrase_id = await library.set_hotkey(
        request.app[SESSIONS_KEY], user, int(raw), phrase_ref(data), utcnow()
    )
    return web.json_response({"slot": int(raw), "phrase_id": phrase_id})


# -- images -------------------------------------------------------------------------------------


@routes.post(MEDIA)
@documented(
    {
        "summary": "Upload an image (PNG, JPEG, GIF or WebP, at most 2 MiB, 4096 px a side) "
        "as the raw request body; ?name= is the file name. Checked by its bytes",
        "security": SECURED,
        "parameters": [{"name": "name", "in": "query", "schema": STR}],
        "requestBody": {
            "required": True,
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "201": json_answer({"type": "object"}, "the stored image: id, url, size ..."),
            "400": error_answer("not an image of an accepted type, or damaged"),
            "401": error_answer("no login"),
            "403": error_answer("role without access, or a missing CSRF token"),
            "413": error_answer("larger than 2 MiB"),
        },
    }
)
async def post_media(request: web.Request) -> web.Response:
    user = current_user(request)
    require(user, library.USE)
    limit = media_actions.MAX_IMAGE_BYTES
    if request.content_length is not None and request.content_length > limit:
        return web.json_response(
            {"error": "file: is larger than 2 MiB", "field": "file"}, status=413
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return web.json_response(
                {"error": "file: is larger than 2 MiB", "field": "file"}, status=413
            )
        chunks.append(chunk)
    stored = await media_actions.upload_image(
        request.app[SESSIONS_KEY], user, b"".join(chunks), request.query.get("name"), utcnow()
    )
    return web.json_response(reads.image_json(stored), status=201)


@routes.get(MEDIA + "/{media_id}")
@documented(
    {
        "summary": "An uploaded image (every login of the shop), with nosniff, a "
        "Content-Disposition and a CSP under which nothing runs",
        "security": SECURED,
        "parameters": [
            {"name": "media_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            {"name": "download", "in": "query", "schema": {"type": "integer", "enum": [0, 1]}},
        ],
        "responses": {
            "200": {"description": "the image", "content": {"image/*": {}}},
            "401": error_answer("no login"),
            "403": error_answer("role without access"),
            "404": error_answer("not found in your shop"),
        },
    }
)
async def get_media(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    require(user, "media.read")
    media_id = path_id(request, "media_id")
    stored = await reads.media_file(request.app[SESSIONS_KEY], user, media_id)
    if stored is None:
        raise NotFoundError(f"image {media_id}: not found")
    disposition = "attachment" if request.query.get("download") == "1" else "inline"
    return web.Response(
        body=stored.data,
        content_type=stored.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": reads.content_disposition(disposition, stored.name),
            "Content-Security-Policy": MEDIA_CSP,
            "Cache-Control": "private, max-age=86400, immutable",
            "Cross-Origin-Resource-Policy": "same-origin",
            "ETag": f'"{stored.sha256}"',
        },
    )
