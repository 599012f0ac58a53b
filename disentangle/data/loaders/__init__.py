"""Loaders for corpora on disk (nothing is downloaded) and `open_corpus`, the one door in.

`open_corpus(path_or_name)` looks at what a folder holds:
  metadata.csv                      -> the corpus written by make_dataset.py
  examples.json (here or one down)  -> NSynth
  TinySOL metadata CSV or names     -> TinySOL
  anything else with audio files    -> a plain folder (labels.csv if present)
A bare name ("notes", "phrases") means `<data root>/<name>`: `data/` in a
checkout, `$DISENTANGLE_DATA` or the user's data folder (`disentangle.paths`).
"""
from __future__ import annotations

from pathlib import Path

from ...paths import data_root
from ..schema import Corpus, load_corpus
from .common import AUDIO_EXTENSIONS, DYNAMICS_MAP, LoadedCorpus
from .folder import audio_files, load_folder
from .nsynth import load_nsynth, split_folders
from .tinysol import load_tinysol, looks_like_tinysol


def resolve_corpus_path(path_or_name: str | Path) -> Path:
    """An existing path as given, else a bare name looked up under the data root, then `./data`."""
    path = Path(path_or_name).expanduser()
    if path.exists():
        return path
    if len(path.parts) == 1:
        for base in (data_root(), Path.cwd() / "data"):
            if (base / path).exists():
                return base / path
    hint = (f" (render it with: disentangle-dataset --out {data_root() / path} --corpus {path})"
            if str(path) in ("notes", "phrases") else "")
    raise FileNotFoundError(f"{path_or_name}: no such corpus folder{hint}")


def open_corpus(path_or_name: str | Path) -> Corpus:
    """Open any supported corpus folder (see the module docstring); paths are relative to it."""
    root = resolve_corpus_path(path_or_name)
    if root.is_file():
        if root.name == "metadata.csv":
            return load_corpus(root.parent)
        raise ValueError(f"{root}: expected a corpus folder (or its metadata.csv), got a file")
    if (root / "metadata.csv").is_file():
        return load_corpus(root)
    if split_folders(root):
        return load_nsynth(root)
    if looks_like_tinysol(root):
        return load_tinysol(root)
    corpus = load_folder(root)
    if not corpus.items:
        raise ValueError(f"{root}: no metadata.csv, NSynth examples.json, TinySOL files or audio files "
                         f"({', '.join(AUDIO_EXTENSIONS)}) found")
    return corpus


__all__ = ["AUDIO_EXTENSIONS", "DYNAMICS_MAP", "LoadedCorpus", "audio_files", "load_folder", "load_nsynth",
           "load_tinysol", "open_corpus", "resolve_corpus_path"]
