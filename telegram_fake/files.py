"""The fake's file storage: Telegram-like file ids, photo size ladders, downloads by path."""

from __future__ import annotations

import base64
import hashlib
import io
import warnings
from typing import Any

from PIL import Image

from telegram_fake.errors import bad_request
from telegram_fake.objects import StoredFile

# file_id prefixes as real ids start (they encode the file type), for realism in logs.
_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "animation": "CgACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
}
_FOLDER = {
    "photo": "photos",
    "document": "documents",
    "animation": "animations",
    "sticker": "stickers",
    "voice": "voice",
    "video": "videos",
    "audio": "music",
}
# Telegram's photo size ladder: type letter and the box each size fits into.
_PHOTO_BOXES = [("s", 90), ("m", 320), ("x", 800), ("y", 1280), ("w", 2560)]
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024


def image_size(data: bytes) -> tuple[int, int, str] | None:
    """(width, height, format) of an image, reading only its header; None if not an image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return image.width, image.height, str(image.format or "")
        except (OSError, ValueError, Image.DecompressionBombError):
            return None


def _thumbnail(data: bytes, width: int, height: int) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=87)
    return out.getvalue()


class FileStore:
    """All files by file_id and by file_path; `keep_bytes=False` keeps only sizes (benchmarks)."""

    def __init__(self, keep_bytes: bool = True) -> None:
        self.keep_bytes = keep_bytes
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0
        self._ladders: dict[str, list[dict[str, Any]]] = {}

    def _ids(self, kind: str) -> tuple[str, str]:
        self._counter += 1
        digest = hashlib.sha1(f"{kind}:{self._counter}".encode()).digest()
        tail = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return (
            f"{_PREFIX.get(kind, 'BQACAgIAAxkBAAI')}{self._counter:06d}{tail}",
            f"AQAD{tail[:12]}",
        )

    def add(self, data: bytes, kind: str, **meta: Any) -> StoredFile:
        """Store bytes as a new file of `kind` (photo size, document, animation, ...)."""
        file_id, unique_id = self._ids(kind)
        ext = {"photo": "jpg", "voice": "oga", "sticker": "webp", "animation": "mp4"}.get(kind)
        name = meta.get("file_name")
        if ext is None:
            ext = name.rsplit(".", 1)[-1] if name and "." in name else "bin"
        path = f"{_FOLDER.get(kind, 'documents')}/file_{self._counter}.{ext}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            file_path=path,
            size=len(data),
            data=data if self.keep_bytes else None,
            **meta,
        )
        self._by_id[file_id] = stored
        self._by_path[path] = stored
        return stored

    def photo(self, data: bytes) -> list[dict[str, Any]]:
        """PhotoSize list, smallest first, as Telegram makes for one uploaded photo."""
        if len(data) > MAX_PHOTO_UPLOAD:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        info = image_size(data)
        if info is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height, _fmt = info
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[dict[str, Any]] = []
        longest = max(width, height)
        for _letter, box in _PHOTO_BOXES:
            if longest <= box:
                break
            scale = box / longest
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            thumb = self.add(b"", "photo", width=w, height=h, mime_type="image/jpeg")
            thumb.data = None
            thumb.size = 0
            if self.keep_bytes:
                thumb.render = lambda w=w, h=h: _thumbnail(data, w, h)
            sizes.append(_photo_size(thumb))
        # Simplification: the largest size keeps the uploaded bytes (Telegram re-encodes JPEG).
        full = self.add(data, "photo", width=width, height=height, mime_type="image/jpeg")
        sizes.append(_photo_size(full))
        for size in sizes:
            self._ladders[size["file_id"]] = sizes
        return sizes

    def ladder(self, file_id: str) -> list[dict[str, Any]] | None:
        """All sizes of the photo one of whose sizes has this file_id."""
        return self._ladders.get(file_id)

    def get(self, file_id: str) -> StoredFile | None:
        """A file by its file_id."""
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        """A file by the file_path getFile returned."""
        return self._by_path.get(path)

    def __len__(self) -> int:
        return len(self._by_id)


def _photo_size(stored: StoredFile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": stored.width,
        "height": stored.height,
    }
    if stored.size:
        out["file_size"] = stored.size
    return out


# Optional fields each Bot API file object has (beyond ids and size).
_OBJECT_FIELDS = {
    "sticker": ("width", "height"),
    "voice": ("duration", "mime_type"),
    "animation": ("width", "height", "duration", "file_name", "mime_type"),
    "video": ("width", "height", "duration", "file_name", "mime_type"),
    "audio": ("duration", "file_name", "mime_type"),
}


def media_object(stored: StoredFile) -> dict[str, Any]:
    """The Bot API object (Document, Animation, Sticker, Voice, ...) describing a stored file."""
    out: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    for key in _OBJECT_FIELDS.get(stored.kind, ("file_name", "mime_type")):
        value = getattr(stored, key)
        if value is not None:
            out[key] = value
    return out
