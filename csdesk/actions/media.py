"""Uploaded images (a quick reply's picture): checked, then stored.

An upload is accepted only when Pillow decodes it as PNG, JPEG, GIF or WebP from its own
bytes (the magic numbers, never the browser's Content-Type or the file name), within
:data:`MAX_IMAGE_BYTES` and :data:`MAX_IMAGE_SIDE`; the stored ``content_type`` is the
decoded format's. Images live in the database (``media_file``) so every web process serves
them; ``csdesk/web/media_api.py`` serves them with ``nosniff``, a Content-Disposition and a
CSP that lets nothing in them run.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from PIL import Image, UnidentifiedImageError

from csdesk.actions import audit
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError
from csdesk.storage.console_models import MediaFile
from csdesk.storage.engine import SessionFactory

MAX_IMAGE_BYTES: Final = 2 * 1024 * 1024
"""2 MiB: a product photo or a size chart; Qianniu's own limit for a chat image is 3 MB."""
MAX_IMAGE_SIDE: Final = 4096
MAX_NAME_CHARS: Final = 80
FORMATS: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
EXTENSIONS: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_UNSAFE_NAME: Final = re.compile(r"[^0-9A-Za-z._\-\u4e00-\u9fff]+")


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """What the bytes are, decoded by Pillow; ``BadInputError('file', ...)`` otherwise."""
    if not data:
        raise BadInputError("file", "is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise BadInputError("file", f"is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                image_format = probe.format or ""
                width, height = probe.size
                probe.verify()  # a truncated or corrupt file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadInputError("file", "is not a PNG, JPEG, GIF or WebP image") from None
    except (OSError, SyntaxError, ValueError):
        raise BadInputError("file", "is a damaged image") from None
    content_type = FORMATS.get(image_format)
    if content_type is None:
        raise BadInputError("file", "is not a PNG, JPEG, GIF or WebP image")
    if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
        raise BadInputError("file", f"must be at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels")
    return ImageInfo(content_type, width, height)


def safe_name(raw: str | None, content_type: str) -> str:
    """A file name that is safe in a header and on a disk, with the real extension."""
    stem = (raw or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = _UNSAFE_NAME.sub("_", stem).strip("._-")[:MAX_NAME_CHARS] or "image"
    return f"{stem}.{EXTENSIONS[content_type]}"


async def upload_image(
    sessions: SessionFactory, actor: CurrentUser, data: bytes, name: str | None, now: datetime
) -> MediaFile:
    """Check and store an image for the actor's shop (audited as ``media.uploaded``)."""
    require(actor, "quick_replies.use")
    info = inspect_image(data)
    async with sessions.begin() as session:
        media = MediaFile(
            shop_id=actor.shop_id,
            uploaded_by=actor.id,
            name=safe_name(name, info.content_type),
            content_type=info.content_type,
            size=len(data),
            width=info.width,
            height=info.height,
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            created_at=now,
        )
        session.add(media)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="media.uploaded",
            target_type="media",
            target_id=media.id,
            at=now,
            detail={"name": media.name, "content_type": media.content_type, "size": media.size},
        )
    return media


__all__ = ["MAX_IMAGE_BYTES", "ImageInfo", "inspect_image", "safe_name", "upload_image"]
