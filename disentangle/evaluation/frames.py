"""Per-frame labels from a corpus's frame annotations, for local (per-frame) spaces.

The `phrases` corpus stores beside each clip an `.npz` (named in the item's
`annotations` column) with, per annotation frame, the held MIDI `note` (0 when
silent) and the annotation `frame_rate`. `annotation_frame_labels` turns that
into the `FrameLabelFn` hook of `evaluate`, so local spaces are scored frame
by frame against the note sounding in each frame (Tanaka et al. 2022).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from disentangle.data.schema import Corpus, Item
from disentangle.evaluation.runner import FrameLabelFn
from disentangle.features.config import FeatureConfig


def has_frame_annotations(corpus: Corpus) -> bool:
    """Whether any item names an annotation file."""
    return any(it.extra.get("annotations") for it in corpus.items)


def frame_times(features: FeatureConfig, n_frames: int) -> np.ndarray:
    """Centre time (s) of each of `n_frames` latent frames: (n_frames,).

    Feature frame i is centred on sample i * hop_length (centred STFT); a
    local space with fewer frames than the features pools groups of them.
    """
    group = features.n_frames / n_frames
    centres = np.arange(n_frames) * group + (group - 1) / 2
    return centres * features.hop_length / features.sample_rate


def annotation_frame_labels(corpus: Corpus, features: FeatureConfig,
                            label_maps: dict[str, list[str]]) -> FrameLabelFn | None:
    """A hook giving frame-level pitch labels, or None when it cannot be aligned.

    None when no item has annotations, or when the features trim leading
    silence (`features.trim_db` set): the trimmed amount is not stored, so
    feature frames cannot be matched to annotation frames. Only the "pitch"
    column is frame-level (the sounding note; -1 in silence or for a pitch
    outside `label_maps["pitch"]`); other columns fall back to time averages.
    """
    if not has_frame_annotations(corpus) or features.trim_db is not None or "pitch" not in label_maps:
        return None
    index = {name: i for i, name in enumerate(label_maps["pitch"])}
    root = Path(corpus.root)

    def hook(items: list[Item], column: str, n_frames: int) -> np.ndarray | None:
        if column != "pitch":
            return None
        times = frame_times(features, n_frames)
        out = np.full((len(items), n_frames), -1, dtype=np.int64)
        for row, item in enumerate(items):
            rel = item.extra.get("annotations")
            if not rel or not (root / rel).is_file():
                continue
            with np.load(root / rel) as ann:
                note, rate = np.asarray(ann["note"]).astype(int), float(ann["frame_rate"])
            k = np.round(times * rate).astype(int)
            inside = k < len(note)  # frames past the clip's end are zero padding
            out[row, inside] = [index.get(str(n), -1) if n > 0 else -1 for n in note[k[inside]]]
        return out

    return hook
