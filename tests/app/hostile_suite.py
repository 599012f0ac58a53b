"""The hostile-input suite in process: every argument of every named endpoint given every
value of `HOSTILE`, on the handlers over the tiny test world; prints per-endpoint counts.

    OMP_NUM_THREADS=1 python tests/app/hostile_suite.py
"""
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "app"), str(REPO / "tests" / "explore"), str(REPO)]
import tiny_world
from ui_handlers import Handlers

from disentangle import load_model
from disentangle.benchmarks.hostile import endpoints, leaks, run_suite
from disentangle.explore import actions
from disentangle.explore.explorer import Explorer
from disentangle.explore.projection import ProjectionParams
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

root = Path(tempfile.mkdtemp())
corpus = tiny_world.make_corpus(root / "corpus")
ckpt = tiny_world.make_checkpoint(root / "tiny.pt", corpus)
ex = Explorer({"tiny": load_model(ckpt)}, corpus, gl_iters=8).build(None, ProjectionParams("pca"))
h = Handlers(ex, "pca")
target = next(iter(actions.class_targets(ex, "tiny", "timbre")))
told = []
def call(name, args):
    s = Session(a=Ref.corpus(3), b=Ref.corpus(20))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if name == "swap_ab": out = h.swap_ab(s)
        elif name == "sample": out = h.sample(*args[:4], s, *args[4:])
        elif name == "project": out = h.project(*args[:12], s, *args[12:])
        else: out = getattr(h, name)(*args, s)
    bad = [str(x.message) for x in w if leaks(str(x.message))]
    if bad: raise RuntimeError("leaky warning: " + bad[0])
    return out
t = time.perf_counter()
tally = run_suite(call, endpoints("tiny", "timbre", target))
res = {e: [tally.tried[e], tally.clean[e]] for e in tally.tried}
print(json.dumps({"per_endpoint": res, "tried": sum(tally.tried.values()), "clean": sum(tally.clean.values()),
                  "problems": tally.problems[:5], "seconds": time.perf_counter() - t}))
