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
    for option in ("--out", "--corpus", "--soundfont", "--sample-rate", "--seed", "--force", "TimGM6mb"):
        assert option in out.stdout


def test_tiny_notes_build_then_rerun_renders_nothing(tmp_path):
    args = ("--out", str(tmp_path), "--instruments", "oboe", "--max-notes", "5", "--quiet")
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert "5 notes in corpus: 5 rendered, 0 skipped" in first.stdout
    assert len(list((tmp_path / "audio" / "oboe").glob("*.wav"))) == 5
    second = run(*args)
    assert "0 rendered, 5 skipped" in second.stdout


def test_tiny_phrases_build(tmp_path):
    out = run("--out", str(tmp_path), "--corpus", "phrases", "--instruments", "cello",
              "--per-instrument", "2", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "2 phrases in corpus: 2 rendered" in out.stdout
    assert len(list(tmp_path.glob("audio/cello/*.npz"))) == 2


def test_bad_soundfont_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"nope" * 64)
    out = run("--out", str(tmp_path / "x"), "--soundfont", str(bad))
    assert out.returncode == 2
    assert "broken.sf2" in out.stderr and "Traceback" not in out.stderr
    missing = run("--out", str(tmp_path / "x"), "--soundfont", str(tmp_path / "gone.sf3"))
    assert missing.returncode == 2 and "gone.sf3: SoundFont file not found" in missing.stderr
