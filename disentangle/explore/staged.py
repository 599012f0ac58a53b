"""The full corpus's explorer, built in a background thread while a first part of it is served.

On a first start with no corpus (a fresh Space), rendering, featurising and
encoding the whole default corpus took minutes before the first answer; the
app instead serves an `Explorer` over a first part and hands `Staged` the work
for the rest. When it is done every `on_ready` callback gets the full
`Explorer` (`ExplorerHub.stage` swaps it in); until then, and if it fails,
the first part stays served.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams

log = logging.getLogger("disentangle.explore")
Say = Callable[[str], None]
#: build(say) -> the full Explorer; `say` reports the current stage in a few words.
Build = Callable[[Say], Explorer]
#: The builder thread's nice value (Linux): the first part is served, so clicks
#: come before the background work on the same cores.
BACKGROUND_NICE = 10
#: What the log says when the full corpus is served (scripts/simulate_space.py waits for it).
SERVED = "the full corpus (built in the background) replaced the first part"


@dataclass(frozen=True)
class StageStatus:
    """Where a staged build is, for the page.

    served: items of the first part (served meanwhile); stage: what the build
    does now; full: items of the full corpus once it is served; error: why the
    build failed (the first part stays); seconds: how long the build took.
    """

    corpus: str
    served: int
    stage: str
    full: int | None = None
    error: str | None = None
    seconds: float | None = None

    @property
    def done(self) -> bool:
        """True once the build has ended, served or failed."""
        return self.full is not None or self.error is not None

    def text(self) -> str:
        """One line (Markdown) saying which corpus the page shows."""
        if self.error is not None:
            return (f"**Showing a first part of the {self.corpus} corpus** ({self.served:,} items): building the "
                    f"rest failed ({self.error}); a restart of the app resumes it.")
        if self.full is not None:
            took = "" if self.seconds is None else f", built in the background in {self.seconds:.0f} s"
            return f"The full {self.corpus} corpus is shown now ({self.full:,} items{took})."
        return (f"**Showing a first part of the {self.corpus} corpus** ({self.served:,} items, every instrument "
                f"and dynamics) while the rest is built in the background ({self.stage}); the map switches to "
                "the full corpus when it is ready.")


class Staged:
    """Runs `build` once in a daemon thread; `status()` says where it is."""

    def __init__(self, build: Build, first: Explorer, nice: int = BACKGROUND_NICE):
        self._build = build
        self.first = first
        self.nice = nice
        self.result: Explorer | None = None
        self.error: str | None = None
        self.stage = "starting"
        self.seconds: float | None = None
        self._callbacks: list[Callable[[Explorer], None]] = []
        self._lock = threading.Lock()
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="full-corpus", daemon=True)

    def on_ready(self, callback: Callable[[Explorer], None]) -> None:
        """Call `callback(full explorer)` when it is built (at once if it already is); in order of registration."""
        with self._lock:
            result = self.result
            if result is None:
                self._callbacks.append(callback)
                return
        callback(result)

    def start(self) -> Staged:
        self._thread.start()
        return self

    def _say(self, text: str) -> None:
        self.stage = text

    def _lower_priority(self) -> None:
        if self.nice and hasattr(os, "setpriority"):
            try:  # on Linux a thread id is a process id for setpriority: only this thread
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                pass

    def _run(self) -> None:
        self._lower_priority()
        start = time.perf_counter()
        try:
            full = self._build(self._say)
            with self._lock:
                self.seconds = time.perf_counter() - start
                self.result = full
                callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback(full)
        except Exception as exc:  # the first part stays served; the reason is shown and logged
            log.exception("building the full corpus failed")
            self.error = f"{type(exc).__name__}: {exc}"
        else:
            log.info("%s: %d items after %.0f s", SERVED, len(full.corpus), self.seconds)
        finally:
            self.done.set()

    def status(self) -> StageStatus:
        """A snapshot; it counts as done only after every `on_ready` callback ran (the swap is made)."""
        result = self.result if self.done.is_set() else None
        full = None if result is None else len(result.corpus)
        return StageStatus(self.first.corpus.name, len(self.first.corpus), self.stage, full, self.error,
                           self.seconds)


def build_rest_of_notes(folder: str | Path, first: Explorer, say_log: Say = print) -> Build:
    """The `Build` of the full notes corpus begun by `data.builtin.build_first_part` in `folder`.

    It renders the rest (`finish_staged`), then builds an explorer of the
    whole corpus with the same models and settings as `first` and a PCA first
    map (milliseconds; the app fits the other maps once it is served).
    say_log: where the build's own progress lines go (the app's log).
    """
    from disentangle.data.builtin import finish_staged

    def build(say: Say) -> Explorer:
        say("rendering the rest of the corpus")
        corpus = finish_staged(folder, first.corpus, progress=False)
        say(f"features and latents of {len(corpus):,} items")
        full = Explorer(first.models_in, corpus, cache_root=first.cache_root, gl_iters=first.gl_iters,
                        device=first.device, fit_worker=first.fit_worker)  # one cache folder: its files are keyed by the corpus fingerprint
        return full.build(None, ProjectionParams("pca"), say=say_log)

    return build


__all__ = ["SERVED", "Build", "StageStatus", "Staged", "build_rest_of_notes"]
