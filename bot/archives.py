"""Unpacking a ZIP or tar of photos that an owner sent to the bot, safely.

An archive is untrusted input: a member may name a path outside the folder ("../x",
"/etc/x", "C:\\x"), be a symbolic or hard link, a device, or decompress to far more than its
size (a bomb). Here nothing is trusted: every name is checked before anything is written, an
archive that names a path outside itself is refused as a whole (it is broken or hostile), links
and special files are never created (skipped and counted), files are written by streaming with
the total counted as it is written (not from the archive's headers), and regular files that are
not images (by name and by their first bytes) are skipped and counted. Any refusal removes what
was written. No Telegram, no storage: the admin service calls `unpack_archive` in a thread.
"""

from __future__ import annotations

import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from model.images import IMAGE_SUFFIXES

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_CHUNK = 1 << 20
# The first bytes of the image formats training reads (model.images.IMAGE_SUFFIXES).
_MAGIC = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
)

# not_archive: neither ZIP nor tar; damaged: unreadable part way; path_escape: a member names a
# path outside the archive; too_many_files / too_large: over the caps; no_images: nothing usable.
ArchiveProblem = Literal[
    "not_archive", "damaged", "path_escape", "too_many_files", "too_large", "no_images"
]


class ArchiveError(ValueError):
    """The archive is refused as a whole; nothing of it is kept."""

    def __init__(self, code: ArchiveProblem, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code: ArchiveProblem = code


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what one archive may unpack to."""

    max_files: int = 50_000  # regular files (images or not)
    max_total_bytes: int = 4 * 1024**3  # written, counted while writing
    max_file_bytes: int = 50 * 1024**2  # one photo; bigger ones are skipped


@dataclass(frozen=True)
class Unpacked:
    """What an archive gave: images written, and what was skipped, by reason."""

    folder: Path
    images: int
    total_bytes: int
    non_images: int  # regular files that are not photos (by name or content)
    links: int  # symbolic/hard links and special files: never created
    too_big: int  # single files over max_file_bytes


@dataclass(frozen=True)
class _Member:
    name: str
    kind: Literal["file", "dir", "link", "other"]
    size: int


def safe_relative(name: str) -> PurePosixPath | None:
    """The member's path inside the folder, or None for an empty/dot name. Raises
    ArchiveError(path_escape) for an absolute path, a drive, or a '..' component."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise ArchiveError("path_escape", "an absolute path")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ArchiveError("path_escape", "a '..' path")
    if any("\x00" in p for p in parts):
        raise ArchiveError("path_escape", "a NUL in a name")
    return PurePosixPath(*parts) if parts else None


def _skipped_by_name(rel: PurePosixPath) -> bool:
    """macOS resource forks, hidden files and anything without a photo suffix."""
    if any(p.startswith(".") or p == "__MACOSX" for p in rel.parts):
        return True
    return not rel.name.lower().endswith(IMAGE_SUFFIXES)


def _looks_like_image(head: bytes) -> bool:
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _zip_members(zf: zipfile.ZipFile) -> Iterator[_Member]:
    for info in zf.infolist():
        # Unix-made archives keep the file type in the high bits; others leave them 0 (file).
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if info.is_dir():
            kind: Literal["file", "dir", "link", "other"] = "dir"
        elif file_type == stat.S_IFLNK:
            kind = "link"
        elif file_type in (0, stat.S_IFREG):
            kind = "file"
        else:
            kind = "other"
        yield _Member(info.filename, kind, info.file_size)


def _tar_members(tf: tarfile.TarFile) -> Iterator[_Member]:
    for info in tf.getmembers():
        if info.isdir():
            kind: Literal["file", "dir", "link", "other"] = "dir"
        elif info.issym() or info.islnk():
            kind = "link"
        elif info.isreg():
            kind = "file"
        else:
            kind = "other"
        yield _Member(info.name, kind, info.size)


def _open_member(archive: zipfile.ZipFile | tarfile.TarFile, name: str) -> IO[bytes]:
    if isinstance(archive, zipfile.ZipFile):
        return archive.open(name)
    stream = archive.extractfile(name)
    if stream is None:
        raise ArchiveError("damaged", "a member cannot be read")
    return stream


def _open_archive(path: Path) -> zipfile.ZipFile | tarfile.TarFile:
    try:
        if zipfile.is_zipfile(path):
            return zipfile.ZipFile(path)
        if tarfile.is_tarfile(path):
            return tarfile.open(path, mode="r:*")
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ArchiveError("damaged", str(exc)) from exc
    raise ArchiveError("not_archive")


def unpack_archive(archive_path: Path, dest: Path, limits: ArchiveLimits | None = None) -> Unpacked:
    """Unpack the photos of a ZIP or tar (gz/bz2/xz) into `dest`, which must not exist yet.

    Raises ArchiveError (and leaves nothing at `dest`) when the archive is not one, is
    damaged, names a path outside itself, is over the caps, or holds no photo."""
    limits = limits or ArchiveLimits()
    dest.mkdir(parents=True, exist_ok=False)
    try:
        return _unpack(archive_path, dest, limits)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _unpack(archive_path: Path, dest: Path, limits: ArchiveLimits) -> Unpacked:
    with closing(_open_archive(archive_path)) as archive:
        try:
            members = list(
                _zip_members(archive)
                if isinstance(archive, zipfile.ZipFile)
                else _tar_members(archive)
            )
        except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
            raise ArchiveError("damaged", str(exc)) from exc
        # Every name is checked before the first byte is written.
        checked = [(m, safe_relative(m.name)) for m in members]
        regular = [(m, rel) for m, rel in checked if m.kind == "file" and rel is not None]
        if len(regular) > limits.max_files:
            raise ArchiveError("too_many_files", f"{len(regular)} files")
        links = sum(1 for m, _ in checked if m.kind in ("link", "other"))
        images = non_images = too_big = total = 0
        for member, rel in regular:
            if _skipped_by_name(rel):
                non_images += 1
                continue
            if member.size > limits.max_file_bytes:
                too_big += 1
                continue
            try:
                written = _write_member(archive, member.name, dest / rel, limits, total)
            except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
                raise ArchiveError("damaged", str(exc)) from exc
            if written == "too_big":
                too_big += 1
            elif written == "skipped":
                non_images += 1
            else:
                total += written
                images += 1
    if images == 0:
        raise ArchiveError("no_images")
    return Unpacked(dest, images, total, non_images, links, too_big)


def _write_member(
    archive: zipfile.ZipFile | tarfile.TarFile,
    name: str,
    target: Path,
    limits: ArchiveLimits,
    total_before: int,
) -> int | Literal["skipped", "too_big"]:
    """Stream one member to `target` (never over an existing file): the bytes written, or why
    nothing was kept (not an image by content, a name already taken, over max_file_bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        out = open(target, "xb")  # noqa: SIM115 (closed below; removed if refused)
    except (FileExistsError, IsADirectoryError, NotADirectoryError):
        return "skipped"  # a duplicate name in the archive: the first one stays
    keep = False
    try:
        with out, _open_member(archive, name) as src:
            head = src.read(16)
            if not _looks_like_image(head):
                return "skipped"
            chunk = head
            while chunk:
                written += len(chunk)
                if written > limits.max_file_bytes:
                    return "too_big"  # the header understated it: a bomb, or a huge file
                if total_before + written > limits.max_total_bytes:
                    raise ArchiveError("too_large", "over the total size cap")
                out.write(chunk)
                chunk = src.read(_CHUNK)
        keep = True
        return written
    finally:
        if not keep:
            target.unlink(missing_ok=True)


def dataset_folder_name(file_name: str, stamp: str) -> str:
    """A folder name for an unpacked archive: its stamp and a tame version of its name."""
    stem = file_name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    tame = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:40].strip("-")
    return f"{stamp}-{tame or 'archive'}"
