"""Loaders for TinySOL, NSynth and plain folders, and `open_corpus` dispatch, on tiny fixture trees."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from disentangle.audio.io import load_audio
from disentangle.data.loaders import LoadedCorpus, load_folder, load_nsynth, load_tinysol, open_corpus
from disentangle.data.loaders.common import duration_class, note_to_midi, parse_dynamics
from disentangle.data.schema import Item, write_metadata

SR = 16000


def tone(path: Path, seconds: float = 0.3, silence: float = 0.0, sr: int = SR, midi: int = 69) -> Path:
    """A short sine (then `silence` s of zeros) written as a wav."""
    t = np.arange(int(seconds * sr)) / sr
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * t),
                            np.zeros(int(silence * sr))])
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr)
    return path


TINYSOL_FILES = {
    "Brass/Horn/ordinario/Hn-ord-A3-ff-N-N.wav": ("french_horn", "brass", 57, "ff"),
    "Strings/Violoncello/ordinario/Vc-ord-C#3-p-2c-T11d.wav": ("cello", "strings", 49, "pp"),
    "Winds/Flute/ordinario/Fl-ord-C6-mf-N-N.wav": ("flute", "woodwinds", 84, "mf"),
    "Keyboards/Accordion/ordinario/Acc-ord-A#1-f-alt2-N.wav": ("accordion", "keyboards", 34, "ff"),
}


@pytest.fixture()
def tinysol(tmp_path) -> Path:
    root = tmp_path / "TinySOL"
    for rel in TINYSOL_FILES:
        tone(root / rel, seconds=0.5, silence=0.5)
    tone(root / "Strings/Violin/ordinario/not-a-tinysol-name.wav")
    return root


def test_label_helpers():
    assert note_to_midi("A4") == 69 and note_to_midi("C#3") == 49 and note_to_midi("Bb1") == 34
    assert note_to_midi("A#0") == 22
    assert [parse_dynamics(d) for d in ("p", "pp", "mp", "f", "FF", "")] == ["pp", "pp", "mf", "ff", "ff", ""]
    with pytest.raises(ValueError):
        parse_dynamics("loud")
    assert duration_class(0.6) == "0.50" and duration_class(0.05) == "0.25" and duration_class(1.9) == "2.00"


def test_tinysol_from_file_names(tinysol):
    with pytest.warns(UserWarning, match="skipped 1 of 5"):
        corpus = load_tinysol(tinysol)
    assert isinstance(corpus, LoadedCorpus) and len(corpus) == 4
    assert corpus.skipped[0][0].endswith("not-a-tinysol-name.wav")
    for item in corpus.items:
        assert (item.instrument, item.family, item.pitch, item.dynamics) == TINYSOL_FILES[item.path]
        assert item.duration_s == pytest.approx(0.5, abs=0.1) and item.duration == "0.50"
        assert load_audio(corpus.audio_path(item), SR).size > 0
    assert {i.split for i in corpus.items} <= {"train", "valid", "test"}
    assert (tinysol / ".cache").is_dir()  # measured durations are cached
    with pytest.warns(UserWarning):
        assert load_tinysol(tinysol, trim_db=None).items[0].duration_s == pytest.approx(1.0, abs=0.01)


def test_tinysol_from_metadata_csv_with_folds(tinysol):
    columns = ["Path", "Fold", "Family", "Instrument (abbr.)", "Instrument (in full)", "Technique (abbr.)",
               "Technique (in full)", "Pitch", "Pitch ID (MIDI)", "Dynamics", "Dynamics ID", "Instance ID",
               "String ID (if applicable)", "Needed digital retuning"]
    rows = [["Brass/Horn/ordinario/Hn-ord-A3-ff-N-N.wav", 0, "Brass", "Hn", "Horn", "ord", "ordinario",
             "A3", 57, "ff", 4, 0, "", "FALSE"],
            ["Winds/Flute/ordinario/Fl-ord-C6-mf-N-N.wav", 4, "Winds", "Fl", "Flute", "ord", "ordinario",
             "C6", 84, "mf", 2, 0, "", "FALSE"],
            # Listed under a shorter path than on disk: found by name.
            ["Violoncello/Vc-ord-C#3-p-2c-T11d.wav", 3, "Strings", "Vc", "Violoncello", "ord", "ordinario",
             "C#3", 49, "p", 1, 0, 2, "TRUE"],
            ["Brass/Horn/ordinario/Hn-ord-B3-ff-N-N.wav", 1, "Brass", "Hn", "Horn", "ord", "ordinario",
             "B3", 59, "ff", 4, 0, "", "FALSE"]]
    with open(tinysol / "TinySOL_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    with pytest.warns(UserWarning, match="skipped 1"):
        corpus = load_tinysol(tinysol, split="folds", trim_db=None)
    by_instrument = {i.instrument: i for i in corpus.items}
    assert set(by_instrument) == {"french_horn", "flute", "cello"}
    assert by_instrument["cello"].path == "Strings/Violoncello/ordinario/Vc-ord-C#3-p-2c-T11d.wav"
    assert by_instrument["cello"].dynamics == "pp" and by_instrument["cello"].extra["dynamics_raw"] == "p"
    assert [by_instrument[n].split for n in ("french_horn", "cello", "flute")] == ["train", "valid", "test"]
    assert corpus.skipped == [("Brass/Horn/ordinario/Hn-ord-B3-ff-N-N.wav", "audio file not found")]
    with pytest.warns(UserWarning):
        assert isinstance(open_corpus(tinysol), LoadedCorpus)


def write_nsynth(folder: Path, keys: dict[str, tuple[str, int, int]], missing: tuple[str, ...] = ()) -> None:
    examples = {}
    for key, (family, pitch, velocity) in keys.items():
        examples[key] = {"note_str": key, "instrument_family_str": family, "instrument_str": key[:-8],
                         "pitch": pitch, "velocity": velocity, "sample_rate": SR,
                         "instrument_source_str": "acoustic", "qualities_str": ["bright"]}
        if key not in missing:
            tone(folder / "audio" / f"{key}.wav", seconds=0.2)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "examples.json").write_text(json.dumps(examples))


def test_nsynth_one_split_folder(tmp_path):
    root = tmp_path / "nsynth-test"
    write_nsynth(root, {"brass_acoustic_001-060-025": ("brass", 60, 25),
                        "reed_acoustic_002-064-075": ("reed", 64, 75),
                        "string_acoustic_003-050-127": ("string", 50, 127),
                        "organ_electronic_004-070-100": ("organ", 70, 100)},
                 missing=("organ_electronic_004-070-100",))
    with pytest.warns(UserWarning, match="skipped 1"):
        corpus = open_corpus(root)
    assert len(corpus) == 3 and all(i.split == "test" for i in corpus.items)
    got = {i.instrument: (i.family, i.pitch, i.dynamics, i.duration) for i in corpus.items}
    assert got == {"brass": ("brass", 60, "pp", "3.00"), "reed": ("woodwinds", 64, "mf", "3.00"),
                   "string": ("strings", 50, "ff", "3.00")}
    assert corpus.items[0].path.startswith("audio/") and corpus.audio_path(corpus.items[0]).is_file()
    assert corpus.items[0].extra["instrument_str"] == "brass_acoustic_001"


def test_nsynth_parent_of_several_splits(tmp_path):
    write_nsynth(tmp_path / "nsynth-train", {"bass_synthetic_033-022-050": ("bass", 22, 50)})
    write_nsynth(tmp_path / "nsynth-valid", {"flute_acoustic_002-077-100": ("flute", 77, 100)})
    corpus = load_nsynth(tmp_path)
    assert {(i.path, i.split) for i in corpus.items} == {
        ("nsynth-train/audio/bass_synthetic_033-022-050.wav", "train"),
        ("nsynth-valid/audio/flute_acoustic_002-077-100.wav", "valid")}
    assert not corpus.skipped


def test_folder_without_labels(tmp_path):
    for name in ("violin/a.wav", "violin/b.flac", "violin/c.wav", "drums/kick.ogg", "loose.wav"):
        tone(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not audio")
    (tmp_path / ".cache").mkdir()
    tone(tmp_path / ".cache" / "hidden.wav")
    corpus = open_corpus(tmp_path)
    got = {i.path: i.instrument for i in corpus.items}
    assert got == {"violin/a.wav": "violin", "violin/b.flac": "violin", "violin/c.wav": "violin",
                   "drums/kick.ogg": "drums", "loose.wav": ""}
    assert all(i.duration_s == pytest.approx(0.3, abs=0.01) for i in corpus.items)


def test_folder_with_labels_csv(tmp_path):
    tone(tmp_path / "x" / "one.wav")
    tone(tmp_path / "two.wav")
    tone(tmp_path / "three.wav")
    tone(tmp_path / "unlisted.wav")
    (tmp_path / "labels.csv").write_text(
        "path,instrument,pitch,dynamics,split,player\n"
        "x/one.wav,oboe,A4,p,test,ann\n"
        "two.wav,oboe,70,fff,,bob\n"
        "three.wav,oboe,72,loud,,cy\n"
        "gone.wav,oboe,60,mf,,dee\n")
    with pytest.warns(UserWarning, match="skipped 2"):
        corpus = load_folder(tmp_path)
    items = {i.path: i for i in corpus.items}
    assert set(items) == {"x/one.wav", "two.wav"}
    assert (items["x/one.wav"].pitch, items["x/one.wav"].dynamics, items["x/one.wav"].split) == (69, "pp", "test")
    assert items["two.wav"].dynamics == "ff" and items["two.wav"].extra == {"player": "bob"}
    assert dict(corpus.skipped)["three.wav"].startswith("unknown dynamics")
    with pytest.raises(ValueError, match="path"):
        bad = tmp_path / "bad.csv"
        bad.write_text("file,instrument\na.wav,oboe\n")
        load_folder(tmp_path, labels_csv=bad)


def test_open_corpus_prefers_metadata_csv(tmp_path):
    tone(tmp_path / "audio" / "n.wav")
    write_metadata(tmp_path / "metadata.csv", [Item(path="audio/n.wav", instrument="flute", pitch=69)])
    (tmp_path / "examples.json").write_text("{}")
    corpus = open_corpus(tmp_path)
    assert corpus.items[0].instrument == "flute" and corpus.root == tmp_path
    assert open_corpus(tmp_path / "metadata.csv").items[0].pitch == 69


def test_open_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_corpus_here"):
        open_corpus("no_such_corpus_here")
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nothing")):
        open_corpus(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no metadata.csv"):
        open_corpus(tmp_path / "empty")
