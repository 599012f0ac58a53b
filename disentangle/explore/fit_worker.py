"""UMAP and t-SNE fits in a child process of their own, so that no fit holds the server's GIL.

Why: numba's compiled loops (UMAP's layout optimisation, its first-use
compilation of 10-20 s) hold the GIL for their whole call. On a first start the
app fits every other space's map in the background while the user clicks; in
a thread of the server's process those fits made clicks wait for the GIL
(click -> sound p50 / p95 344 / 9,680 and 2,637 / 5,182 ms in two first starts
of data/notes, `scripts/bench.py browser --precompute`, session 10). In a child
process at the lowest CPU priority they only share the cores: 85 / 137 and
103 / 372 ms.

One long-lived child serves every fit, one at a time: a new process per fit
would pay ~3 s of imports and ~8 s of numba compilation each time (measured
here: 12.9 s for the first fit of 3,600 points in a fresh process, 4.4 s for
the next). The child reads one job per line on stdin and answers with JSON
lines on stdout: progress lines, then `{"done": stem}` or `{"error": text}`.
Arrays go through `.npy` files in a private temporary folder (no pickles).
The child exits when its stdin closes and, mid-fit, when its parent is gone
(a watchdog thread; a stopped child cannot run it, so where the child was
started by the parent's main thread it also asks Linux to kill it with its
parent, PR_SET_PDEATHSIG: that signal comes when the starting *thread* ends).

A background fit (`fit(..., background=True)`, the app's precompute of every
other space's map) can be paused: `pause()` stops the child (SIGSTOP) and
`resume()` lets it go on, so that the app can give both cores to a listener's
clicks while they come (app/quiet_fits.py). At nice 19 alone the child still
took a core from the browser's software WebGL and the server: on a first start
of data/notes with the maps fitted meanwhile, click -> sound p95 137-372 ms
and space switches p95 1.15-1.54 s (session 10). A fit someone waits for
(`urgent()`, or any fit not asked as background) is never paused.

Run as `python -m disentangle.explore.fit_worker` (only `FitWorker` does).
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from disentangle.explore.projection import FitProgress, Projection, ProjectionParams, fit_projection

#: Environment of the child: one thread per library, as the in-process fits had.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}


class FitWorkerError(RuntimeError):
    """The child process failed or stopped; the message says how."""


class FitWorker:
    """Fits maps in one child process (started on first use, restarted after it dies).

    nice: the child's CPU priority (19: the lowest, so clicks get the cores first).
    """

    def __init__(self, nice: int = 19):
        self.nice = nice
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="disentangle-fit-"))
        self._jobs = 0
        self._state = threading.Lock()  # guards the two flags below and the signals
        self._background = False  # the job in the child may be paused
        self._paused = False
        atexit.register(self.close)

    def start(self) -> None:
        """Start the child now (else on the first fit). From the main thread, the child dies with
        this process even while paused (see the module's docstring)."""
        with self._lock:
            self._start()

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = {**os.environ, **ONE_THREAD}
        with_parent = "1" if threading.current_thread() is threading.main_thread() else "0"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "disentangle.explore.fit_worker", str(self.nice), with_parent],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
        return self._proc

    def fit(self, x: np.ndarray, params: ProjectionParams, progress: FitProgress | None = None,
            background: bool = False) -> Projection:
        """Fit a map of x (N, D) in the child -> the same `Projection` as `fit_projection` gives.

        progress(done, total, what) is called with the child's progress lines.
        background: the fit may be paused (`pause`) until `resume` or `urgent`.
        Raises ValueError for what `fit_projection` rejects, FitWorkerError when the child fails.
        """
        x = np.asarray(x, dtype=np.float32)
        with self._lock:
            with self._state:
                self._background = background
            try:
                return self._fit(x, params, progress)
            finally:
                self.urgent()  # between jobs the child is never left stopped

    def _fit(self, x: np.ndarray, params: ProjectionParams, progress: FitProgress | None) -> Projection:
        self._jobs += 1
        job = self._dir / f"job{self._jobs}"
        np.save(job.with_suffix(".in.npy"), x, allow_pickle=False)
        start = time.perf_counter()
        try:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            line = json.dumps({"x": str(job.with_suffix(".in.npy")), "stem": str(job),
                               "params": {**asdict(params), "pcs": list(params.pcs)}})
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except OSError as exc:
                raise FitWorkerError(f"the map-fitting process did not take the job: {exc}") from exc
            for answer in proc.stdout:
                try:
                    msg = json.loads(answer)
                except ValueError:  # not an answer (nothing else should be written there)
                    continue
                if "progress" in msg and progress is not None:
                    done, total, what = msg["progress"]
                    progress(int(done), int(total), str(what))
                elif "error" in msg:
                    raise ValueError(msg["error"])
                elif "done" in msg:
                    proj = Projection.load(job, x)
                    if proj is None:
                        raise FitWorkerError("the map-fitting process wrote no readable map")
                    return replace(proj, seconds=time.perf_counter() - start, from_cache=False)
            code = proc.wait()
            raise FitWorkerError(f"the map-fitting process stopped (exit code {code}) before the map was done")
        finally:
            for suffix in (".in.npy", ".npy", ".json"):
                job.with_suffix(suffix).unlink(missing_ok=True)

    def _signal(self, sig: int) -> bool:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return False
        try:
            os.kill(proc.pid, sig)
        except OSError:  # it ended meanwhile
            return False
        return True

    def pause(self) -> None:
        """Stop the child while it fits a background map (no-op otherwise, or where there is no SIGSTOP)."""
        stop = getattr(signal, "SIGSTOP", None)
        with self._state:
            if stop is not None and self._background and not self._paused:
                self._paused = self._signal(stop)

    def resume(self) -> None:
        """Let a paused child go on."""
        with self._state:
            if self._paused:
                self._signal(signal.SIGCONT)
                self._paused = False

    def urgent(self) -> None:
        """Someone waits for the fit in the child now: resume it and never pause it again."""
        with self._state:
            self._background = False
        self.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    def close(self) -> None:
        """Stop the child (mid-fit too) and remove the temporary folder."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


def _exit_with_parent(parent: int) -> None:
    """Mid-fit the child does not read stdin; this thread ends it once its parent is gone."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the thread that started it ends (it works on a stopped process)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (AttributeError, OSError):  # not Linux: the watchdog thread alone
        pass


def _serve(nice: int, with_parent: bool = False) -> None:
    from threadpoolctl import threadpool_limits

    parent = os.getppid()
    if with_parent and sys.platform.startswith("linux"):
        _die_with_parent()
    try:
        os.nice(max(0, nice))
    except (AttributeError, OSError):  # not POSIX or not allowed: the usual priority
        pass
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    # The answers get stdout to themselves: anything a library prints (C code too) goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def say(msg: dict) -> None:
        answers.write(json.dumps(msg) + "\n")
        answers.flush()

    for line in sys.stdin:
        job = json.loads(line)
        p = dict(job["params"])
        p["pcs"] = tuple(p["pcs"])
        try:
            x = np.load(job["x"], allow_pickle=False)
            with threadpool_limits(1):
                proj = fit_projection(x, ProjectionParams(**p),
                                      lambda done, total, what: say({"progress": [done, total, what]}))
            proj.save(Path(job["stem"]))
        except (ValueError, TypeError, OSError) as exc:  # what an in-process fit would raise
            say({"error": str(exc)})
            continue
        say({"done": job["stem"]})


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 19, len(sys.argv) > 2 and sys.argv[2] == "1")
