"""Your folder as a corpus: a zip made here (sine and noise WAVs in two sub-folders), labels, limits (issue 11)."""
from __future__ import annotations

import zipfile

import pytest
from folder_data import make_zip, wav_bytes

from disentangle.explore.folder import FolderRefused, make_folder_corpus


@pytest.fixture(autouse=True)
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DISENTANGLE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_zip_with_sub_folders_becomes_a_labelled_corpus(tmp_path, data_root):
    report = make_folder_corpus([make_zip(tmp_path / "in.zip")], "folder mine")
    c = report.corpus
    assert len(c) == 6 and report.labels == "folders"
    assert c.classes("instrument") == ["noise", "sine"]
    assert c.root == data_root / "uploads" / "folder mine"  # under the data root, nowhere else
    assert (c.root / "metadata.csv").is_file() and all((c.root / i.path).is_file() for i in c.items)


def test_labels_from_a_csv_in_the_zip(tmp_path):
    csv = "file,instrument,dynamics\n" + "".join(f"{k}_{i}.wav,{k}-like,{'ff' if i else 'pp'}\n"
                                                 for k in ("sine", "noise") for i in range(3))
    report = make_folder_corpus([make_zip(tmp_path / "in.zip", csv)], "labelled")
    assert report.labels == "csv"
    assert report.corpus.classes("instrument") == ["noise-like", "sine-like"]
    assert report.corpus.classes("dynamics") == ["ff", "pp"]


def test_loose_files_without_labels(tmp_path):
    paths = []
    for i in range(2):
        p = tmp_path / f"take {i}.wav"
        p.write_bytes(wav_bytes("sine", i))
        paths.append(p)
    report = make_folder_corpus(paths, "loose")
    assert len(report.corpus) == 2 and report.labels == "none"


def test_no_audio_too_many_and_a_zip_bomb_are_refused(tmp_path, monkeypatch):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(FolderRefused, match="no audio"):
        make_folder_corpus([empty], "x")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.wav", b"\0" * (8 << 20))  # 8 MB of zeros pack to ~8 KB
    with pytest.raises(FolderRefused, match="zip bomb"):
        make_folder_corpus([bomb], "x")
    monkeypatch.setattr("disentangle.explore.folder.MAX_FILES", 4)
    with pytest.raises(FolderRefused, match="at most 4"):
        make_folder_corpus([make_zip(tmp_path / "in.zip")], "x")
    with pytest.raises(FolderRefused, match="not a readable zip"):
        (tmp_path / "fake.zip").write_bytes(b"PK not really")
        make_folder_corpus([tmp_path / "fake.zip"], "x")


def test_unsafe_member_names_stay_inside(tmp_path, data_root):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.wav", wav_bytes("sine", 0))
        zf.writestr("/abs/olute.wav", wav_bytes("noise", 1))
    report = make_folder_corpus([evil], "evil")
    assert [i.path for i in report.corpus.items] == ["audio/abs/olute.wav"]  # ".." members are left out
    assert not (tmp_path / "outside.wav").exists() and not (data_root / "outside.wav").exists()
    for item in report.corpus.items:
        assert (report.corpus.root / item.path).resolve().is_relative_to(report.corpus.root.resolve())
