"""Per-frame labels from a corpus's frame annotations, for local (per-frame) spaces.

The `phrases` corpus stores beside each clip an `.npz` (named in the item's
`annotations` column) with, per annotation frame (`frame_rate` per second,
frame i centred on i / frame_rate s): `pitch` (MIDI incl. bend, 0 silent),
`note` (MIDI without bend), `voiced`, `expression` (CC 11), ... The model's
frames need not match: its features may use another sample rate and hop, and
a local space may pool feature frames. `frame_annotations` therefore samples
each annotation at the centre time of every latent frame (nearest annotation
frame).

Tanaka et al. (2022, 2025) score local spaces frame by frame with semitone
pitch labels and exclude silent frames. `annotation_frame_labels` builds the
`FrameLabelFn` hook of `evaluate` on that rule for `FRAME_COLUMNS`:
  pitch      the annotated MIDI pitch rounded to a semitone (`note` when an
             annotation file has no `pitch`);
  dynamics   the per-frame expression class (CC 11 quantised at the phrase
             corpus's pp|mf|ff thresholds), falling back to the item's label;
  instrument the item's label, repeated per frame;
and -1 (unscored) in silent frames, past the clip's end and for classes
outside the model's label map. Isolated notes of a built `notes` corpus have
no annotation file: each frame inside the (trailing-silence-trimmed) file
carries the item's labels (`note_annotation`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from disentangle.data.schema import Corpus, Item
from disentangle.features.config import FeatureConfig

if TYPE_CHECKING:  # the runner imports the swap protocol, which imports this module
    from disentangle.evaluation.runner import FrameLabelFn

#: CC 11 thresholds between pp|mf and mf|ff: those the phrases corpus labels
#: its phrases' dynamics with (`disentangle.data.phrases.THRESHOLDS`).
EXPRESSION_THRESHOLDS = (65.0, 102.0)
EXPRESSION_CLASSES = ("pp", "mf", "ff")
#: Columns scored frame by frame (Tanaka: instrument and pitch, plus the
#: variation factor's dynamics); others (family, ...) fall back to time
#: averages, which also keeps the frame-wise read-outs' cost down.
FRAME_COLUMNS = ("instrument", "pitch", "dynamics")


def has_frame_annotations(corpus: Corpus) -> bool:
    """Whether any item names an annotation file."""
    return any(it.extra.get("annotations") for it in corpus.items)


def is_note_corpus(corpus: Corpus) -> bool:
    """A corpus of isolated notes as the builders write them: every item labelled with a note.

    Read from `build.json` (the `notes` corpus) so that folders of long
    recordings with one pitch label are not scored frame by frame.
    """
    import json

    try:
        manifest = json.loads((Path(corpus.root) / "build.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("corpus") == "notes"


def frame_times(features: FeatureConfig, n_frames: int) -> np.ndarray:
    """Centre time (s) of each of `n_frames` latent frames: (n_frames,).

    Feature frame i is centred on sample i * hop_length (centred STFT); a
    local space with fewer frames than the features pools groups of them.
    """
    group = features.n_frames / n_frames
    centres = np.arange(n_frames) * group + (group - 1) / 2
    return centres * features.hop_length / features.sample_rate


@dataclass
class FrameAnnotations:
    """Annotations sampled at latent frames, for N items x T' frames.

    pitch: (N, T') float MIDI (0 where silent or unknown); voiced: (N, T')
    bool (False past the clip's end or without an annotation file);
    expression: (N, T') float CC 11 value, NaN where not annotated.
    """

    pitch: np.ndarray
    voiced: np.ndarray
    expression: np.ndarray


def sample_annotation(ann: dict[str, np.ndarray], times: np.ndarray) -> dict[str, np.ndarray]:
    """One item's annotation at `times` (s): {"pitch", "voiced", "expression"}, each (len(times),)."""
    rate = float(ann["frame_rate"])
    pitch = np.asarray(ann["pitch"] if "pitch" in ann else ann["note"], dtype=np.float64)
    voiced = np.asarray(ann["voiced"], bool) if "voiced" in ann else pitch > 0
    k = np.round(times * rate).astype(int)
    inside = (k >= 0) & (k < len(pitch))  # frames past the clip's end are zero padding
    ki = np.clip(k, 0, len(pitch) - 1)
    out_voiced = inside & voiced[ki] & (pitch[ki] > 0)
    out = {"pitch": np.where(out_voiced, pitch[ki], 0.0), "voiced": out_voiced}
    if "expression" in ann:
        out["expression"] = np.where(inside, np.asarray(ann["expression"], np.float64)[ki], np.nan)
    else:
        out["expression"] = np.full(len(times), np.nan)
    return out


def frame_annotations(items: list[Item], root: str | Path, features: FeatureConfig,
                      n_frames: int) -> FrameAnnotations:
    """Annotations of `items` (files relative to `root`) at `n_frames` latent frames."""
    return annotations_at(items, root, frame_times(features, n_frames))


def annotations_at(items: list[Item], root: str | Path, times: np.ndarray) -> FrameAnnotations:
    """Annotations of `items` at arbitrary `times` (s, (T,)), e.g. a pitch tracker's frames."""
    pitch = np.zeros((len(items), len(times)))
    voiced = np.zeros((len(items), len(times)), bool)
    expression = np.full((len(items), len(times)), np.nan)
    for row, item in enumerate(items):
        rel = item.extra.get("annotations")
        if not rel:
            pitch[row], voiced[row] = note_annotation(item, root, times)
            continue
        if not (Path(root) / rel).is_file():
            continue
        with np.load(Path(root) / rel) as data:
            ann = {k: data[k] for k in data.files}
        s = sample_annotation(ann, times)
        pitch[row], voiced[row], expression[row] = s["pitch"], s["voiced"], s["expression"]
    return FrameAnnotations(pitch, voiced, expression)


def note_annotation(item: Item, root: str | Path, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An isolated note without an annotation file: (pitch, sounding) at `times`, each (T,).

    Its label holds for as long as the file sounds (the corpus builders trim
    trailing silence, so the file's length is the note with its release);
    pitch is the item's MIDI pitch, 0 when unknown (percussion), which no
    pitch class matches, so those frames score only the other columns.
    """
    import soundfile as sf

    try:
        length = sf.info(str(Path(root) / item.path)).duration
    except (OSError, RuntimeError):
        length = 0.0
    sounding = times < length
    return np.where(sounding, float(max(item.pitch, 0)), 0.0), sounding


def expression_classes(expression: np.ndarray) -> np.ndarray:
    """CC 11 values -> class index into `EXPRESSION_CLASSES` (-1 where NaN); same shape."""
    cls = np.digitize(np.nan_to_num(expression, nan=0.0), EXPRESSION_THRESHOLDS)
    return np.where(np.isnan(expression), -1, cls)


def frame_labels(items: list[Item], column: str, ann: FrameAnnotations,
                 classes: list[str]) -> np.ndarray:
    """(N, T') indices into `classes` of `column` per frame, -1 where silent or unknown.

    See the module docstring for how each column is read.
    """
    index = {name: i for i, name in enumerate(classes)}
    out = np.full(ann.voiced.shape, -1, dtype=np.int64)
    if column == "pitch":
        semis = np.round(ann.pitch).astype(int)
        semitone_index = {s: index.get(str(s), -1) for s in np.unique(semis[ann.voiced])}
        for s, k in semitone_index.items():
            out[ann.voiced & (semis == s)] = k
        return out
    per_item = np.array([index.get(it.label(column), -1) for it in items], dtype=np.int64)
    out[:] = per_item[:, None]
    if column == "dynamics":
        expr = expression_classes(ann.expression)
        lut = np.array([index.get(name, -1) for name in EXPRESSION_CLASSES])
        out = np.where(expr >= 0, lut[np.maximum(expr, 0)], out)
    return np.where(ann.voiced, out, -1)


def annotation_frame_labels(corpus: Corpus, features: FeatureConfig,
                            label_maps: dict[str, list[str]]) -> FrameLabelFn | None:
    """A hook giving frame-level labels for every column of `label_maps`, or None.

    None when no item has annotations and the corpus is not a built `notes`
    corpus (whose notes are labelled over their sounding length, as Tanaka et
    al. 2022 score isolated notes frame by frame), or when the features trim
    leading silence (`features.trim_db` set): the trimmed amount is not
    stored, so feature frames cannot be matched to annotation frames. The hook returns
    None for a column outside `FRAME_COLUMNS` or missing from `label_maps`
    (the space is then scored on its time average).
    """
    if not (has_frame_annotations(corpus) or is_note_corpus(corpus)) or features.trim_db is not None:
        return None
    root = Path(corpus.root)
    # The runner asks once per space x column; read the files once per item set.
    cache: dict[tuple, FrameAnnotations] = {}

    def hook(items: list[Item], column: str, n_frames: int) -> np.ndarray | None:
        if column not in FRAME_COLUMNS or column not in label_maps:
            return None
        key = (tuple(it.path for it in items), n_frames)
        if key not in cache:
            cache[key] = frame_annotations(items, root, features, n_frames)
        return frame_labels(items, column, cache[key], label_maps[column])

    return hook
