"""Several corpora in one app: one `Explorer` per corpus, each built on first use.

The app opens with one corpus built (so startup costs what it did); the
others (the phrases beside the notes, a folder the user uploads) are built the
first time a user switches to them. On a first start the corpus it opens with
may be a first part of the default one (`stage`): the full corpus, built in the
background, then replaces it, as a switch of corpus would without the switch. A model is shown on a corpus under a key:
its own name on the corpus the app opened with, "<model> @ <corpus>" on the
others, so any handler finds its explorer from the model key it is given and
a key never means two things.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from disentangle.data.schema import Corpus
from disentangle.explore.explorer import Explorer, Progress
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.staged import Staged, StageStatus
from disentangle.models.base import DisentangleModel

SEP = " @ "


@dataclass(frozen=True)
class CorpusSource:
    """A corpus the app can switch to.

    name: shown in the UI ("notes", "phrases", a folder's name). open: returns
    the corpus (it may render a built-in one). models: names of the loaded
    models shown on it.
    """

    name: str
    open: Callable[[], Corpus]
    models: tuple[str, ...]
    note: str = ""


def model_key(model: str, corpus: str, default: str) -> str:
    """The key a model is shown under on `corpus` (its plain name on the `default` corpus)."""
    return model if corpus == default else f"{model}{SEP}{corpus}"


class ExplorerHub:
    """Every corpus the app serves, and the explorer of each (built lazily, once).

    models: every loaded model by name. default: the explorer the app opened with.
    """

    def __init__(self, models: Mapping[str, DisentangleModel], default: Explorer, default_name: str | None = None,
                 cache_root: str | Path | None = None, gl_iters: int = 16, params: ProjectionParams | None = None):
        self.models = dict(models)
        self.default_name = default_name or default.corpus.name
        self.cache_root = Path(cache_root) if cache_root else None
        self.gl_iters = gl_iters
        self.params = params
        self._built: dict[str, Explorer] = {self.default_name: default}
        self._sources: dict[str, CorpusSource] = {}
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}
        self._staged: Staged | None = None

    @classmethod
    def single(cls, explorer: Explorer) -> ExplorerHub:
        """A hub of one built explorer (tests, scripts)."""
        return cls(explorer.models_in, explorer, gl_iters=explorer.gl_iters)

    # --- corpora ---------------------------------------------------------------
    @property
    def default(self) -> Explorer:
        return self._built[self.default_name]

    @property
    def names(self) -> list[str]:
        """Corpus names: the default first, then the others in the order added (built or not)."""
        others = [*self._sources, *[n for n in self._built if n not in self._sources]]
        return [self.default_name, *[n for n in others if n != self.default_name]]

    def add(self, source: CorpusSource) -> None:
        """Offer another corpus (replacing an unbuilt one of the same name)."""
        if source.name == self.default_name or source.name in self._built:
            raise ValueError(f"a corpus named {source.name!r} is already open")
        if not source.models:
            raise ValueError(f"no model can be shown on {source.name}")
        self._sources[source.name] = source

    def add_built(self, name: str, explorer: Explorer) -> None:
        """Offer a corpus whose explorer is already built (e.g. the user's folder)."""
        with self._lock:
            self._built[name] = explorer
            self._sources.pop(name, None)

    def replace(self, name: str, explorer: Explorer) -> None:
        """Serve `explorer` for the built corpus `name` from the next event on.

        Events already running finish on the explorer they started with. The
        model keys stay those of `name`, so open pages and sessions go on.
        """
        with self._lock:
            if name not in self._built:
                raise ValueError(f"the corpus {name!r} is not built; nothing to replace")
            self._built[name] = explorer

    def stage(self, staged: Staged) -> None:
        """The default explorer is a first part; `staged` builds the full corpus, which replaces it.

        Corpus rows keep their items across the swap when the full corpus lists
        the first part's items first (as `data.builtin.finish_staged` does).
        """
        if staged.first is not self.default:
            raise ValueError("a staged build must start from the default explorer")
        self._staged = staged
        staged.on_ready(lambda full: self.replace(self.default_name, full))

    @property
    def staged(self) -> Staged | None:
        """The background build of the default corpus, if it was opened as a first part."""
        return self._staged

    def stage_status(self) -> StageStatus | None:
        """Where the background build of the default corpus is (None: the corpus was opened whole)."""
        return None if self._staged is None else self._staged.status()

    def is_built(self, name: str) -> bool:
        return name in self._built

    def explorer(self, name: str, progress: Progress | None = None,
                 say: Callable[[str], None] = print) -> Explorer:
        """The explorer of corpus `name`, built now (features, latents, first map) if it is not yet."""
        if name in self._built:
            return self._built[name]
        if name not in self._sources:
            raise ValueError(f"unknown corpus {name!r}; available: {self.names}")
        with self._lock:
            lock = self._building.setdefault(name, threading.Lock())
        with lock:  # two users switching at once build it once
            if name in self._built:
                return self._built[name]
            source = self._sources[name]
            corpus = source.open()
            models = {model_key(m, name, self.default_name): self.models[m] for m in source.models}
            cache = self.cache_root / name if self.cache_root else None
            ex = Explorer(models, corpus, cache_root=cache, gl_iters=self.gl_iters,
                          fit_worker=self.default.fit_worker)
            ex.build(progress, self.params, say=say)
            with self._lock:
                self._built[name] = ex
            return ex

    # --- model keys ------------------------------------------------------------
    def corpus_of(self, key: str) -> str:
        """The corpus a model key belongs to."""
        if isinstance(key, str) and SEP in key:
            return key.rsplit(SEP, 1)[1]
        return self.default_name

    def explorer_of(self, key: str) -> Explorer:
        """The built explorer that serves model `key`; ValueError if its corpus is not open yet."""
        name = self.corpus_of(key)
        ex = self._built.get(name)
        if ex is None:
            raise ValueError(f"unknown model {str(key)[:80]!r}: choose its corpus ({name}) first")
        return ex

    def explorer_of_corpus(self, name: str) -> Explorer:
        """The built explorer of corpus `name` ("" or None: the default one)."""
        ex = self._built.get(name or self.default_name)
        if ex is None:
            raise ValueError(f"the corpus {str(name)[:80]!r} is not open")
        return ex

    def model_keys(self) -> list[str]:
        """Every model key of every built corpus."""
        return [key for ex in list(self._built.values()) for key in ex.model_names]

    def model_choices(self, name: str) -> list[tuple[str, str]]:
        """(label, key) of the models of a built corpus, for a dropdown (labels without the corpus)."""
        return [(key.split(SEP, 1)[0], key) for key in self.explorer(name).model_names]

    def describe(self, name: str) -> str:
        """"notes (built)" / "phrases (built on first use)"."""
        if name in self._built:
            return name
        note = self._sources[name].note
        return f"{name} ({note or 'built on first use'})"


__all__ = ["SEP", "CorpusSource", "ExplorerHub", "model_key"]
