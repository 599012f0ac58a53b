"""Sample sources: the General MIDI SoundFonts a machine can render corpora from.

One SoundFont teaches a model its samples, not instruments (a model trained on
TimGM6mb alone placed FluidR3 notes on the right instrument 25 % of the time),
so the built-in corpora render the same plan from several banks. Each source
is known by a short name, the Debian package that installs it (`make setup`
and `.ci/run` install them; `packages.txt` lists them for a Space) and where
that package puts it. Any `.sf2`/`.sf3` path is a source too, named by its stem.

How related the banks are matters when one is held out (see README, "Corpora"):
MuseScore General builds on FluidR3 (Mono) and replaces many presets; the
csound bank sounds close to TimGM6mb; the OPL3 bank is FM synthesis, unlike
any sampled bank.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SampleSource:
    """A SoundFont a corpus can be rendered from.

    name: short id written in the `source` column ("fluidr3").
    filename: the file's name; `dirs` are searched for it in order.
    package: the Debian package that installs it (None: shipped by a Python package).
    engine: the synthesizer that plays it (`synths.ENGINES`): FluidSynth for the
      MuseScore banks, whose piano TinySoundFont plays without its pitch above
      about E5 (`synths` has the measurement).
    """

    name: str
    filename: str
    dirs: tuple[str, ...]
    package: str | None
    about: str
    engine: str = "tinysoundfont"

    def locate(self) -> Path | None:
        """The installed file, or None when it is not on this machine.

        A link to a file of another name is not this bank: Debian points
        `sf3/MuseScore_General.sf3` at the Lite bank (`update-alternatives`)
        when only the Lite package is installed, and that link had made
        `musescore` render Lite's notes byte for byte.
        """
        if self.package is None:
            from .soundfont import default_soundfont

            return default_soundfont()
        return next((p for p in self._present() if p.resolve().name == self.filename), None)

    def stand_in(self) -> Path | None:
        """The file a link in place of this bank points to, when `locate` refused one."""
        return next((r for p in self._present() if (r := p.resolve()).name != self.filename), None)

    def _present(self) -> list[Path]:
        """Files of this name in `dirs`, in search order (links included)."""
        return [p for d in self.dirs if (p := Path(d) / self.filename).is_file()]


_SF2 = ("/usr/share/sounds/sf2",)
_SF3 = ("/usr/share/sounds/sf3",)
SOURCES: dict[str, SampleSource] = {s.name: s for s in (
    SampleSource("timgm6mb", "TimGM6mb.sf2", (), None, "TimGM6mb, shipped inside pretty_midi (6 MB)"),
    SampleSource("fluidr3", "FluidR3_GM.sf2", _SF2, "fluid-soundfont-gm", "Fluid R3 GM (142 MB)"),
    SampleSource("csound", "sf_GMbank.sf2", _SF2 + ("/usr/share/samples",), "csound-soundfont",
                 "the csound GM bank (4 MB; close to TimGM6mb)"),
    SampleSource("opl3", "OPL-3_FM_128M.sf2", _SF2, "opl3-soundfont", "OPL3 FM-chip simulation (FM, not samples)"),
    SampleSource("musescore-lite", "MuseScore_General_Lite.sf3", _SF3, "musescore-general-soundfont-small",
                 "MuseScore General Lite (38 MB, lossy; builds on FluidR3 Mono)", "fluidsynth"),
    SampleSource("musescore", "MuseScore_General.sf3", _SF3, "musescore-general-soundfont",
                 "MuseScore General HQ (82 MB, lossy; builds on FluidR3 Mono)", "fluidsynth"),
    SampleSource("fluidr3mono", "FluidR3Mono_GM.sf3", _SF3, "fluidr3mono-gm-soundfont",
                 "Fluid R3 Mono (23 MB, lossy; the FluidR3 samples in mono)"),
)}

#: Sources the default `notes` and `phrases` corpora train on: two sampled
#: families (TimGM6mb/csound, FluidR3) and one synthetic (OPL3), so that a
#: timbre space must find what a violin has in common across banks.
TRAIN_SOURCES: tuple[str, ...] = ("timgm6mb", "fluidr3", "csound", "opl3")
#: Rendered into the default corpora as the `unseen` split: the validation
#: source on which settings are chosen (never trained on).
HOLDOUT_SOURCES: tuple[str, ...] = ("musescore-lite",)
DEFAULT_SOURCES: tuple[str, ...] = TRAIN_SOURCES + HOLDOUT_SOURCES


@dataclass(frozen=True)
class Located:
    """A source resolved on this machine: its name, file and synthesizer."""

    name: str
    path: Path
    engine: str = "tinysoundfont"


def source_name(path: Path) -> str:
    """The name a path given as a source gets: its stem, lower case, safe for folders."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "soundfont"


def locate_sources(names: Sequence[str]) -> tuple[list[Located], dict[str, str]]:
    """Resolve source names (or SoundFont paths) to files.

    Returns the sources found, in the given order, and {name: message} for
    the sources not installed here (naming the package that provides it). Unknown
    names that are not existing files raise ValueError.
    """
    found: list[Located] = []
    missing: dict[str, str] = {}
    for name in names:
        if name in SOURCES:
            src = SOURCES[name]
            path = src.locate()
            if path is None:
                other = src.stand_in()
                link = f"; {src.filename} here is a link to {other.name}" if other else ""
                missing[name] = (f"source {name!r} is not installed ({src.filename}{link}; "
                                 f"`apt-get install {src.package}`)")
            elif (why := engine_missing(src.engine)) is not None:
                missing[name] = f"source {name!r} needs {why}"
            else:
                found.append(Located(name, path, src.engine))
            continue
        path = Path(name).expanduser()
        if path.suffix.lower() in (".sf2", ".sf3") or path.exists():
            found.append(Located(source_name(path), path))
            continue
        raise ValueError(f"unknown sample source {name!r}; choose from {sorted(SOURCES)} or give a "
                         ".sf2/.sf3 path")
    names_seen = [s.name for s in found]
    dupes = sorted({n for n in names_seen if names_seen.count(n) > 1})
    if dupes:
        raise ValueError(f"sample source(s) named twice: {dupes}")
    return found, missing


#: The Debian package each synthesizer needs (TinySoundFont comes from pip).
ENGINE_PACKAGES: dict[str, str] = {"fluidsynth": "libfluidsynth3"}


def engine_missing(engine: str) -> str | None:
    """None when `engine` can play here, else what to install."""
    if engine != "fluidsynth":
        return None
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; raises ImportError without libfluidsynth)
    except ImportError as exc:
        return f"FluidSynth ({exc}; `apt-get install {ENGINE_PACKAGES[engine]}`, `pip install pyfluidsynth`)"
    return None


def debian_packages(names: Sequence[str] = DEFAULT_SOURCES) -> list[str]:
    """The Debian packages that install `names` and their synthesizers (Makefile / packages.txt)."""
    srcs = [SOURCES[n] for n in names if n in SOURCES]
    return sorted({p for s in srcs if (p := s.package)} | {ENGINE_PACKAGES[s.engine] for s in srcs
                                                          if s.engine in ENGINE_PACKAGES})
