"""Fixtures every test shares."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread per test, restored afterwards.

    The tests use tiny models and short FFT loops that gain nothing from
    threads, and on a shared 2-core machine torch's thread pool made them
    several times slower (a judge trained in ~0.7 s on one thread, 7-25 s on
    two under load). Results do not depend on the thread count.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


KILLED_WRITER = """
import os, signal, sys
from disentangle.atomic import atomic_write

def write(tmp):
    with open(tmp, "wb") as f:
        f.write(b"half a checkpoint")
        f.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # no finally, no except: like a kill -9

atomic_write(sys.argv[1], write)
"""


@pytest.fixture
def kill_mid_write():
    """A function that runs a writer in a subprocess which SIGKILLs itself halfway
    through writing `path` (with `disentangle.atomic.atomic_write`)."""
    def kill(path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], env=env)
        assert proc.returncode == -9
    return kill
