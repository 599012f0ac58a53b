"""Maps fitted in the FitWorker's child process: same map, progress, errors, restarts, cleanup."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from disentangle.explore.fit_worker import FitWorker
from disentangle.explore.projection import ProjectionParams, fit_projection


def _blobs(n: int = 80, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 6, (3, d))
    return (centres[rng.integers(0, 3, n)] + rng.normal(0, 0.3, (n, d))).astype(np.float32)


@pytest.fixture
def worker():
    w = FitWorker(nice=0)
    yield w
    w.close()


def test_worker_fits_the_same_map_in_another_process(worker):
    x = _blobs()
    params = ProjectionParams("tsne", perplexity=10)
    seen = []
    proj = worker.fit(x, params, lambda done, total, what: seen.append((done, total)))
    assert worker._proc is not None and worker._proc.pid != os.getpid() and worker._proc.poll() is None
    with threadpool_limits(1):
        here = fit_projection(x, params)
    assert proj.params == params and not proj.from_cache and proj.seconds > 0
    assert proj.coords.shape == (80, 2) and np.allclose(proj.coords, here.coords, atol=1e-3)
    assert proj.reference is x or np.array_equal(proj.reference, x)
    assert seen[0] == (0, 80) and seen[-1] == (80, 80)
    assert not list(worker._dir.iterdir())  # the job's files are gone


def test_errors_come_back_as_in_process_and_the_worker_goes_on(worker):
    x = _blobs()
    with pytest.raises(ValueError, match="unknown projection method"):
        worker.fit(x, ProjectionParams("bogus"))  # type: ignore[arg-type]
    first = worker._proc
    assert worker.fit(x, ProjectionParams("tsne", perplexity=5)).coords.shape == (80, 2)
    assert worker._proc is first  # the same child served both


def test_a_dead_child_is_restarted_and_close_ends_it(worker):
    x = _blobs()
    worker.fit(x, ProjectionParams("tsne", perplexity=5))
    dead = worker._proc
    assert dead is not None
    dead.kill()
    dead.wait()
    assert worker.fit(x, ProjectionParams("tsne", perplexity=5)).coords.shape == (80, 2)
    live = worker._proc
    assert live is not None and live is not dead
    folder = worker._dir
    worker.close()
    assert live.poll() is not None and not folder.exists()


def test_child_exits_when_its_stdin_closes(worker):
    worker.fit(_blobs(), ProjectionParams("tsne", perplexity=5))
    proc = worker._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


def _becomes(pid: int, stopped: bool, timeout: float = 5.0) -> bool:
    """Whether the process reaches that state (T in /proc: stopped) within timeout: a signal
    lands asynchronously, so its state is read until it does."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/stat") as f:
            if (f.read().rsplit(")", 1)[1].split()[0] == "T") == stopped:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads process states from /proc")
def test_a_background_fit_pauses_and_resumes_and_an_urgent_one_never_pauses(worker):
    import threading
    import time

    x = _blobs(1000, 8)  # a few seconds of t-SNE
    params = ProjectionParams("tsne", perplexity=30)
    worker.fit(_blobs(), ProjectionParams("tsne", perplexity=5))  # the child is up
    proc = worker._proc
    assert proc is not None
    out: list = []
    job = threading.Thread(target=lambda: out.append(worker.fit(x, params, background=True)))
    job.start()
    time.sleep(0.5)
    worker.pause()
    assert worker.paused and _becomes(proc.pid, True)
    time.sleep(1.0)  # stopped: the fit does not end meanwhile
    assert job.is_alive() and not out
    worker.resume()
    assert not worker.paused and _becomes(proc.pid, False)
    worker.pause()
    worker.urgent()  # someone waits for it now: resumed, and pausing does nothing any more
    worker.pause()
    assert not worker.paused and _becomes(proc.pid, False)
    job.join(120)
    assert out and out[0].coords.shape == (1000, 2)
    worker.pause()  # between jobs: nothing to pause
    assert not worker.paused
    worker.fit(_blobs(), ProjectionParams("tsne", perplexity=5))  # a foreground fit is never paused
    assert not worker.paused and _becomes(proc.pid, False)


HELPER = """
import sys, threading, time
import numpy as np
from disentangle.explore.fit_worker import FitWorker
from disentangle.explore.projection import ProjectionParams
w = FitWorker(nice=0)
w.fit(np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32), ProjectionParams("tsne", perplexity=5))
x = np.random.default_rng(1).normal(size=(1500, 8)).astype(np.float32)
threading.Thread(target=w.fit, args=(x, ProjectionParams("tsne")), kwargs={"background": True}, daemon=True).start()
time.sleep(0.5)
w.pause()
print(w._proc.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_paused_child_dies_with_its_parent():
    """A stopped child cannot run its watchdog: Linux kills it when the parent is killed."""
    import signal
    import subprocess
    import time

    parent = subprocess.Popen([sys.executable, "-c", HELPER], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _becomes(child, True)  # paused
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        try:  # reaped by init; a zombie of ours would keep /proc/<pid>, so read its state too
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    break
        except OSError:
            break
        time.sleep(0.05)
    else:
        assert not os.path.exists(f"/proc/{child}"), "the stopped child outlived its parent"
