"""The errors every layer raises and the web edge answers, one class per HTTP answer.

Actions, reads and parsers raise these; one middleware (``csdesk.web``) turns them into
the JSON answer (``{"error", "field"?}``) with the status named here, and the CLI into
exit 2 with one line. Anything else that escapes is a bug: logged, answered 500.
"""

from __future__ import annotations

from typing import ClassVar


class CsdeskError(Exception):
    """A refusal the caller can act on; ``status`` is the HTTP answer."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInputError(CsdeskError):
    """Malformed input; ``field`` names the part of the request that is wrong (400)."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.reason = message


class ForbiddenError(CsdeskError):
    """The caller's role may not do this to this object (403)."""

    status = 403


class NotFoundError(CsdeskError):
    """No such object, or none the caller may know exists (404)."""

    status = 404


class ConflictError(CsdeskError):
    """The object's state does not allow this now (409)."""

    status = 409


class GoneError(CsdeskError):
    """It existed, and no longer answers: an expired signed link (410)."""

    status = 410
