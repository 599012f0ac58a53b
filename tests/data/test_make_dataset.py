"""scripts/make_dataset.py: documented options, a tiny build, rerun, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_dataset.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_help_documents_every_option():
    out = run("--help")
    assert out.returncode == 0
    for option in ("--out", "--corpus", "--soundfont", "--source", "--holdout-source", "--no-percussion",
                   "--sample-rate", "--seed", "--force", "timgm6mb", "fluidr3", "musescore-lite"):
        assert option in out.stdout


def test_tiny_notes_build_then_rerun_renders_nothing(tmp_path):
    args = ("--out", str(tmp_path), "--source", "timgm6mb", "--no-percussion", "--instruments", "oboe",
            "--max-notes", "5", "--quiet")
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert "5 notes in corpus: 5 rendered, 0 skipped" in first.stdout
    assert len(list((tmp_path / "audio" / "timgm6mb" / "oboe").glob("*.wav"))) == 5
    second = run(*args)
    assert "0 rendered, 5 skipped" in second.stdout


def test_tiny_phrases_build(tmp_path):
    out = run("--out", str(tmp_path), "--corpus", "phrases", "--source", "timgm6mb", "--instruments", "cello",
              "--per-instrument", "2", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "2 phrases in corpus: 2 rendered" in out.stdout
    assert len(list(tmp_path.glob("audio/timgm6mb/cello/*.npz"))) == 2


def test_holdout_source_gets_its_own_split(tmp_path):
    from disentangle.data.schema import load_corpus
    from disentangle.data.soundfont import default_soundfont

    twin = tmp_path / "Twin.sf2"
    twin.write_bytes(default_soundfont().read_bytes())
    out = run("--out", str(tmp_path / "c"), "--source", "timgm6mb", "--source", str(twin),
              "--holdout-source", "twin", "--instruments", "oboe", "--max-notes", "12", "--quiet")
    assert out.returncode == 0, out.stderr
    items = load_corpus(tmp_path / "c").items
    assert {i.split for i in items if i.source == "twin"} == {"unseen"}
    assert {i.split for i in items if i.source == "timgm6mb"} == {"train", "valid", "test"}
    assert {i.instrument for i in items if i.family == "percussion"} and all(
        i.pitch == -1 for i in items if i.family == "percussion")


def test_unknown_source_and_stray_holdout_are_clear_errors(tmp_path):
    out = run("--out", str(tmp_path / "x"), "--source", "kazoo-bank")
    assert out.returncode == 2 and "unknown sample source 'kazoo-bank'" in out.stderr
    out = run("--out", str(tmp_path / "x"), "--source", "timgm6mb", "--holdout-source", "fluidr3")
    assert out.returncode == 2 and "holdout source(s) ['fluidr3'] are not among the sources" in out.stderr


def test_bad_soundfont_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"nope" * 64)
    out = run("--out", str(tmp_path / "x"), "--soundfont", str(bad))
    assert out.returncode == 2
    assert "broken.sf2" in out.stderr and "Traceback" not in out.stderr
    missing = run("--out", str(tmp_path / "x"), "--soundfont", str(tmp_path / "gone.sf3"))
    assert missing.returncode == 2 and "gone.sf3: SoundFont file not found" in missing.stderr
