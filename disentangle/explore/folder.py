"""The user's own folder as a corpus: uploaded audio files or a zip, checked, copied, labelled.

`make_folder_corpus` takes what the browser uploaded (several audio files,
or zips of them) and writes a corpus of its own under the data root
(`<data root>/uploads/<name>/`, never into the checkout or site-packages):
`audio/...` plus `metadata.csv`. Labels come from a CSV inside the zip (a
`path`/`file`/`name` column, then label columns such as `instrument`), else
from sub-folder names (as `instrument`), else there are none.

Everything is treated as hostile: at most MAX_FILES sounds, at most
MAX_TOTAL_BYTES once unpacked, no member that unpacks to more than
MAX_RATIO times its packed size (a zip bomb), names reduced to safe parts
(no "..", no absolute paths), every sound's header checked by
`uploads.check_upload`; each refusal is one message naming the file.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from disentangle.data.schema import COLUMNS, Corpus, Item, write_metadata
from disentangle.explore.uploads import MAX_UPLOAD_BYTES, UploadRefused, check_upload
from disentangle.paths import data_root

AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
#: Sounds in one folder corpus (each is encoded and mapped; the app's CPU is shared).
MAX_FILES = 2000
#: Bytes of audio once unpacked (all files together).
MAX_TOTAL_BYTES = 20 * MAX_UPLOAD_BYTES
#: Largest unpacked/packed ratio of one zip member: audio compresses ~1-3x; a bomb 1000x.
MAX_RATIO = 50
#: Zip members looked at (files and folders), so a zip of a million empty entries is refused early.
MAX_MEMBERS = 4 * MAX_FILES
_SAFE = re.compile(r"[^A-Za-z0-9._\- ]+")


class FolderRefused(ValueError):
    """An upload that cannot become a corpus; the message says why."""


@dataclass
class FolderReport:
    corpus: Corpus
    labels: str  # "csv", "folders" or "none"
    skipped: list[str] = field(default_factory=list)


def folder_root(name: str) -> Path:
    """Where folder corpus `name` lives: under the data root, never in the checkout's code."""
    return data_root() / "uploads" / safe_part(name)


def safe_part(text: str) -> str:
    """One path part made of letters, digits, space, '.', '-', '_' (never '.' or '..')."""
    part = _SAFE.sub("_", str(text)).strip(" .")[:80]
    return part or "folder"


def _members(paths: Iterable[str | Path]) -> tuple[list[tuple[str, bytes | Path]], dict[str, bytes]]:
    """(relative name, bytes or file path) of every audio file, and CSVs by name; checks the limits."""
    sounds: list[tuple[str, bytes | Path]] = []
    csvs: dict[str, bytes] = {}
    total = 0
    for p in (Path(x) for x in paths):
        if p.suffix.lower() == ".zip":
            try:
                zf = zipfile.ZipFile(p)
            except (zipfile.BadZipFile, OSError):
                raise FolderRefused(f"{p.name} is not a readable zip file") from None
            with zf:
                infos = zf.infolist()
                if len(infos) > MAX_MEMBERS:
                    raise FolderRefused(f"{p.name} has {len(infos):,} entries; at most {MAX_MEMBERS:,} are read")
                for info in infos:
                    if info.is_dir():
                        continue
                    name = PurePosixPath(info.filename.replace("\\", "/"))
                    # Hidden files, macOS resource forks and ".." (a path out of the folder) are left out.
                    if any(part.startswith(("__MACOSX", ".")) for part in name.parts):
                        continue
                    suffix = name.suffix.lower()
                    if suffix not in AUDIO and suffix != ".csv":
                        continue
                    if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1 << 20:
                        raise FolderRefused(f"{p.name}: {name.name} unpacks to {info.file_size / 2**20:.0f} MB from "
                                            f"{info.compress_size / 2**10:.0f} KB, which no sound does (a zip bomb?)")
                    total += info.file_size
                    if total > MAX_TOTAL_BYTES:
                        raise FolderRefused(f"{p.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB; "
                                            "upload fewer or shorter sounds")
                    rel = "/".join(safe_part(x) for x in name.parts if x not in ("", ".", "..", "/"))
                    data = zf.read(info)  # bounded by the checks above
                    if suffix == ".csv":
                        csvs[rel] = data
                    else:
                        sounds.append((rel, data))
                        if len(sounds) > MAX_FILES:
                            raise FolderRefused(f"more than {MAX_FILES} sounds; a folder corpus holds at most "
                                                f"{MAX_FILES}")
        elif p.suffix.lower() in AUDIO:
            total += p.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise FolderRefused(f"the files come to more than {MAX_TOTAL_BYTES // 2**20} MB")
            sounds.append((safe_part(p.name), p))
            if len(sounds) > MAX_FILES:
                raise FolderRefused(f"more than {MAX_FILES} sounds; a folder corpus holds at most {MAX_FILES}")
        elif p.suffix.lower() == ".csv":
            csvs[safe_part(p.name)] = p.read_bytes()[:MAX_UPLOAD_BYTES]
    return sounds, csvs


def _csv_labels(csvs: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """File name (or relative path) -> its label columns, from the first CSV with a path/file/name column."""
    for _name, data in sorted(csvs.items()):
        try:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            continue
        if not rows:
            continue
        key = next((k for k in ("path", "file", "filename", "name") if k in rows[0]), None)
        if key is None:
            continue
        table = {}
        for row in rows[: 4 * MAX_FILES]:
            ref = str(row.get(key) or "").strip().replace("\\", "/")
            labels = {k: str(v)[:80] for k, v in row.items() if k and k != key and k in COLUMNS and v}
            if ref:
                table[ref] = labels
                table.setdefault(PurePosixPath(ref).name, labels)
        return table
    return {}


def _item(rel: str, labels: dict[str, str], by_folder: bool) -> Item:
    item = Item(path=f"audio/{rel}", split="train", source="your folder")
    if by_folder and "/" in rel:
        item.instrument = rel.rsplit("/", 2)[-2]
    for k, v in labels.items():
        if k in ("pitch", "velocity"):
            try:
                setattr(item, k, int(float(v)))
            except ValueError:
                continue
        elif k == "duration_s":
            try:
                item.duration_s = float(v)
            except ValueError:
                continue
        elif k not in ("path", "split"):
            setattr(item, k, v)
    return item


def make_folder_corpus(paths: Iterable[str | Path], name: str, shown: dict[str, str] | None = None) -> FolderReport:
    """Write the uploaded sounds as corpus `name` under `folder_root(name)` (replacing an older one).

    paths: uploaded files (audio files, zips, a CSV). shown: upload path -> the
    user's file name, for messages. Raises FolderRefused with one message.
    """
    paths = [str(p) for p in paths]
    if not paths:
        raise FolderRefused("choose audio files or a zip of them first")
    sounds, csvs = _members(paths)
    if not sounds:
        raise FolderRefused("no audio in the upload (wav, flac, ogg, mp3, aiff; directly or in a zip)")
    table = _csv_labels(csvs)
    by_folder = not table and len({rel.rsplit("/", 1)[0] for rel, _ in sounds if "/" in rel}) > 1
    root = folder_root(name)
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "audio").mkdir(parents=True)
    items, skipped, seen = [], [], set()
    try:
        for rel, src in sounds:
            if rel in seen:
                continue
            seen.add(rel)
            dest = tmp / "audio" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(src, Path):
                shutil.copyfile(src, dest)
            else:
                dest.write_bytes(src)
            label = (shown or {}).get(str(src), rel) if isinstance(src, Path) else rel
            try:
                check_upload(dest, label)
            except UploadRefused as exc:
                skipped.append(str(exc))
                dest.unlink()
                continue
            items.append(_item(rel, table.get(rel, table.get(PurePosixPath(rel).name, {})), by_folder))
        if not items:
            raise FolderRefused("none of the sounds can be read: " + "; ".join(skipped[:3]))
        write_metadata(tmp / "metadata.csv", items)
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return FolderReport(Corpus(root, [*items], safe_part(name)), "csv" if table else "folders" if by_folder
                        else "none", skipped)


__all__ = ["MAX_FILES", "MAX_TOTAL_BYTES", "FolderRefused", "FolderReport", "folder_root", "make_folder_corpus"]
