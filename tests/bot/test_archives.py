"""Archives of photos and dataset folders: nothing escapes the datasets root."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from bot.archives import (
    ArchiveError,
    ArchiveLimits,
    dataset_folder_name,
    safe_relative,
    unpack_archive,
)
from bot.datasets import SourceError, label_of, mask_paths, resolve_source
from tests.botkit import png_bytes

PHOTO = png_bytes(__import__("numpy").full((8, 8, 3), 128, dtype="uint8"))


def make_zip(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) | 0  # a symbolic link, as `zip -y` stores it
            zf.writestr(info, target)
    return path


def test_photos_are_unpacked_and_the_rest_counted(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "faces.zip",
        {
            "faces/a.png": PHOTO,
            "faces/sub/b.PNG": PHOTO,
            "faces/readme.txt": b"hello",
            "faces/fake.jpg": b"not a jpeg at all",  # an image name, not image bytes
            "__MACOSX/faces/._a.png": PHOTO,
            "faces/": b"",
        },
        links={"faces/passwd.png": "/etc/passwd"},
    )
    out = unpack_archive(archive, tmp_path / "root" / "set")
    assert (out.images, out.non_images, out.links, out.too_big) == (2, 3, 1, 0)
    written = sorted(p.relative_to(out.folder).as_posix() for p in out.folder.rglob("*.*"))
    assert written == ["faces/a.png", "faces/sub/b.PNG"]
    assert not any(p.is_symlink() for p in out.folder.rglob("*"))
    assert out.total_bytes == 2 * len(PHOTO)


@pytest.mark.parametrize(
    "name", ["../evil.png", "faces/../../evil.png", "/abs/evil.png", "C:\\evil.png", "a\\..\\..\\x"]
)
def test_a_path_out_of_the_archive_refuses_it_whole(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"ok.png": PHOTO, name: PHOTO})
    with pytest.raises(ArchiveError) as err:
        unpack_archive(archive, tmp_path / "root" / "set")
    assert err.value.code == "path_escape"
    assert not (tmp_path / "root" / "set").exists()  # nothing written, not even ok.png
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "root" / "evil.png").exists()


def test_caps_on_file_count_total_size_and_single_files(tmp_path: Path) -> None:
    many = make_zip(tmp_path / "many.zip", {f"{i}.png": PHOTO for i in range(6)})
    with pytest.raises(ArchiveError) as err:
        unpack_archive(many, tmp_path / "a", ArchiveLimits(max_files=5))
    assert err.value.code == "too_many_files" and not (tmp_path / "a").exists()
    with pytest.raises(ArchiveError) as err:
        unpack_archive(many, tmp_path / "b", ArchiveLimits(max_total_bytes=3 * len(PHOTO)))
    assert err.value.code == "too_large" and not (tmp_path / "b").exists()
    big = PHOTO + b"\0" * 5000
    mixed = make_zip(tmp_path / "mixed.zip", {"small.png": PHOTO, "big.png": big})
    out = unpack_archive(mixed, tmp_path / "c", ArchiveLimits(max_file_bytes=len(PHOTO) + 10))
    assert (out.images, out.too_big) == (1, 1)


def test_a_zip_bomb_is_stopped_by_what_is_written(tmp_path: Path) -> None:
    # 30 files of 4 MB of zeros behind a PNG signature: 120 MB in a ~120 KB archive.
    block = b"\x89PNG\r\n\x1a\n" + bytes(4 << 20)
    bomb = make_zip(tmp_path / "bomb.zip", {f"{i}.png": block for i in range(30)})
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ArchiveError) as err:
        unpack_archive(bomb, tmp_path / "d", ArchiveLimits(max_total_bytes=16 << 20))
    assert err.value.code == "too_large" and not (tmp_path / "d").exists()


def test_tar_links_devices_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "set.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("set/a.png")
        info.size = len(PHOTO)
        tf.addfile(info, io.BytesIO(PHOTO))
        for name, kind in (("set/out.png", tarfile.SYMTYPE), ("set/hard.png", tarfile.LNKTYPE)):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = kind, "/etc/passwd"
            tf.addfile(link)
        fifo = tarfile.TarInfo("set/pipe")
        fifo.type = tarfile.FIFOTYPE
        tf.addfile(fifo)
    out = unpack_archive(path, tmp_path / "t")
    assert (out.images, out.links) == (1, 3)
    assert [p.name for p in out.folder.rglob("*") if p.is_file()] == ["a.png"]
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tf:
        info = tarfile.TarInfo("../../x.png")
        info.size = len(PHOTO)
        tf.addfile(info, io.BytesIO(PHOTO))
    with pytest.raises(ArchiveError) as err:
        unpack_archive(evil, tmp_path / "u")
    assert err.value.code == "path_escape"


def test_not_an_archive_and_no_photos(tmp_path: Path) -> None:
    junk = tmp_path / "x.zip"
    junk.write_bytes(b"PK but not really a zip file")
    with pytest.raises(ArchiveError) as err:
        unpack_archive(junk, tmp_path / "e")
    assert err.value.code == "not_archive"
    empty = make_zip(tmp_path / "docs.zip", {"a.txt": b"x", "b.pdf": b"%PDF"})
    with pytest.raises(ArchiveError) as err:
        unpack_archive(empty, tmp_path / "f")
    assert err.value.code == "no_images" and not (tmp_path / "f").exists()


def test_names() -> None:
    assert safe_relative("./a//b/./c.png").as_posix() == "a/b/c.png"  # type: ignore[union-attr]
    assert safe_relative("./") is None
    assert dataset_folder_name("My Faces (2).tar.gz", "20260101-120000") == (
        "20260101-120000-My-Faces--2"
    )
    assert dataset_folder_name("....zip", "s") == "s-archive"


def test_sources_stay_under_the_root(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    (root / "celeba" / "img").mkdir(parents=True)
    (root / "celeba" / "img" / "1.png").write_bytes(PHOTO)
    (root / "a-file.png").write_bytes(PHOTO)
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "x.png").write_bytes(PHOTO)
    os.symlink(outside, root / "linked")  # a folder that is a link out
    (root / "sneaky").mkdir()
    os.symlink(outside / "x.png", root / "sneaky" / "x.png")  # a photo that is a link out
    (root / "fine").mkdir()
    os.symlink(root / "celeba" / "img" / "1.png", root / "fine" / "1.png")  # a link inside

    src = resolve_source("celeba/img/", root)
    assert src.photos and src.label == "celeba/img" and src.spec == str(root / "celeba/img")
    assert resolve_source("fine", root).label == "fine"
    cases = {
        "../secret": "outside",
        "celeba/../../secret": "outside",
        str(outside): "outside",
        "~/secret": "outside",
        "linked": "outside",
        "sneaky": "link_out",
        "nowhere": "missing",
        "a-file.png": "not_folder",
        ".": "not_folder",
        "synthetic:1": "bad_synthetic",
        "synthetic:x": "bad_synthetic",
        "synthetic:9999999": "bad_synthetic",
    }
    for text, code in cases.items():
        with pytest.raises(SourceError) as err:
            resolve_source(text, root)
        assert err.value.code == code, text
        assert str(outside) not in str(err.value)
    synth = resolve_source("Synthetic:256:7", root)
    assert (synth.spec, synth.photos) == ("synthetic:256:7", False)
    assert label_of(root / "celeba" / "img", root) == "celeba/img"


def test_paths_are_masked_unless_under_the_root(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    root.mkdir()
    line = (
        f"{root.resolve()}/celeba/img: no image files found; "
        f"see /home/bot/.cache/x.log and '/etc/passwd'"
    )
    masked = mask_paths(line, root)
    assert masked == "celeba/img: no image files found; see [path] and '[path]'"
    assert mask_paths("loss 1/2 at 3.5 img/s", root) == "loss 1/2 at 3.5 img/s"
