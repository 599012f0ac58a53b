"""Every named endpoint under hostile values: a clear message or a valid result, never a
crash, a raw exception text or a server path; the server still answers a click after."""
from __future__ import annotations

import json
import logging
import math
import socket
import urllib.request
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disentangle.benchmarks.hostile import HOSTILE, endpoints, judge_exception, judge_result, leaks
from disentangle.explore import actions
from disentangle.explore.refs import Ref
from disentangle.explore.session import Session

#: Anything JSON can carry, weighted toward the values that broke the app before.
hostile = st.one_of(st.sampled_from(HOSTILE), st.floats(), st.integers(), st.text(max_size=60),
                    st.none(), st.booleans(), st.lists(st.integers(), max_size=3))
#: What gradio_client can send (its JSON refuses NaN and infinities; raw HTTP sends them below).
json_hostile = st.one_of(st.sampled_from([h for h in HOSTILE if not (isinstance(h, float) and not math.isfinite(h))]),
                         st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text(max_size=60),
                         st.none(), st.booleans())
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def handlers(explorer):
    from ui_handlers import Handlers

    return Handlers(explorer, "pca")


@pytest.fixture(scope="module")
def eps(explorer):
    target = next(iter(actions.class_targets(explorer, "tiny", "timbre")))
    return {e.name: e for e in endpoints("tiny", "timbre", target)}


def call_handler(h, name: str, args: tuple, session: Session):
    """The handler behind API endpoint `name` (the API leaves the session out)."""
    if name == "swap_ab":
        return h.swap_ab(session)
    if name == "sample":
        return h.sample(*args[:4], session, *args[4:])
    if name == "project":
        return h.project(*args[:12], session, *args[12:])
    return getattr(h, name)(*args, session)


def ready_session() -> Session:
    s = Session(a=Ref.corpus(3), b=Ref.corpus(20))
    return s


@pytest.mark.parametrize("name", ["render_point", "project", "sweep", "interpolate", "swap", "toward",
                                  "sample", "grid", "encode_audio", "export_csv", "export_wav"])
def test_each_argument_of_each_endpoint_survives_hostile_values(handlers, eps, name, caplog):
    ep = eps[name]

    @SETTINGS
    @given(position=st.integers(0, len(ep.valid) - 1), value=hostile)
    def one(position, value):
        args = list(ep.valid)
        args[position] = value
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always")
            out = call_handler(handlers, name, tuple(args), ready_session())  # must not raise
        ok, what = judge_result(out, ep.message_at)
        assert ok, f"{name}{tuple(args)!r:.200}: {what}"
        for w in told:
            assert not leaks(str(w.message)), f"{name}{tuple(args)!r:.200} told: {w.message}"

    with caplog.at_level(logging.INFO, logger="disentangle.app"):
        one()
    assert not [r for r in caplog.records if r.exc_info], "a user error was logged with a traceback"


def test_refusals_name_the_argument_and_the_range(handlers):
    s = ready_session()
    with pytest.warns(UserWarning, match=r"^spread w must be a finite number, got nan$"):
        handlers.sample("tiny", float("nan"), 2, 0, s)
    with pytest.warns(UserWarning, match=r"^seed must be a whole number within 0 \.\. 4294967295"):
        handlers.sample("tiny", 0.5, 2, 2**70, s)
    with pytest.warns(UserWarning, match=r"^from must be a finite number, got inf$"):
        handlers.sweep("tiny", "timbre", 0, float("inf"), 1.0, 3, "value", s)
    with pytest.warns(UserWarning, match=r"c:999999 is not an item of the corpus"):
        handlers.render_point("tiny", "c:999999", "A", "reconstruction", s)
    with pytest.warns(UserWarning, match=r"^point reference is too long \(5002 characters; at most 200\)$"):
        handlers.render_point("tiny", "c:" + "9" * 5000, "A", "reconstruction", s)
    with pytest.warns(UserWarning, match=r"^UMAP min_dist must be one of 0\.0, 0\.05"):
        handlers.project("tiny", "timbre", "UMAP", 15, 0.1234, 30, 1, 2, "instrument", "", [], True, s, 6.0, 0.7, False)


def test_an_unexpected_failure_is_logged_once_and_the_user_sees_no_internals(handlers, monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("Optimal parameters not found: maxfev = 600 in /work/secret/path.py")
    monkeypatch.setattr(actions, "swap", broken)
    with caplog.at_level(logging.INFO, logger="disentangle.app"), \
            pytest.warns(UserWarning, match=r"^swap failed on the server \(the error is logged there\)$"):
        out = handlers.swap("tiny", "timbre", ready_session())
    assert "maxfev" not in str(out) and "/work" not in str(out)
    assert [r.exc_info is not None for r in caplog.records] == [True]


@pytest.fixture(scope="module")
def served(explorer):
    from gradio_client import Client
    from main import build_demo

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo(explorer, "pca").queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                show_error=False)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    client.base_url = f"http://127.0.0.1:{port}"  # for the raw HTTP calls
    client.predict("tiny", "c:3", "A", "reconstruction", api_name="/render_point")  # sets A
    try:
        yield client
    finally:
        demo.close()


@pytest.mark.slow
def test_served_endpoints_answer_hostile_values_cleanly(served, eps):
    names = sorted(eps)

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(name=st.sampled_from(names), data=st.data())
    def one(name, data):
        ep = eps[name]
        args = list(ep.valid)
        if ep.positions:
            args[data.draw(st.sampled_from(ep.positions))] = data.draw(json_hostile)
        try:
            ok, what = judge_result(served.predict(*args, api_name=f"/{name}"), ep.message_at)
        except Exception as exc:  # noqa: BLE001 (every failure is judged)
            ok, what = judge_exception(exc)
        assert ok, f"{name}{tuple(args)!r:.200}: {what}"

    one()
    md = served.predict("tiny", "c:7", "A", "reconstruction", api_name="/render_point")
    assert md[1] is not None and "A:" in md[4]  # a click still plays


def raw_call(base: str, name: str, body: str) -> tuple[int, str]:
    """POST a hand-written JSON body (NaN, Infinity) to /gradio_api/call/<name>; (status, events)."""
    req = urllib.request.Request(f"{base}/gradio_api/call/{name}", body.encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/{name}/{event_id}", timeout=60) as r:
        return r.status, r.read().decode()


@pytest.mark.slow
@pytest.mark.parametrize("name,body,says", [
    ("sample", '{"data": ["tiny", NaN, 2, 0, "any (whole prior)", "any (whole prior)", "any (whole prior)",'
               ' "any (whole prior)", "any (whole prior)", "any (whole prior)"]}', "spread w must be a finite number"),
    ("sweep", '{"data": ["tiny", "timbre", 0, -Infinity, 1, 3, "value"]}', "from must be a finite number"),
    ("grid", '{"data": ["tiny", "timbre", 0, 1, -1, NaN, 2]}', "to must be a finite number"),
    ("sample", '{"data": ["tiny", 0.5, 2, 1180591620717411303424, "any (whole prior)", "any (whole prior)",'
               ' "any (whole prior)", "any (whole prior)", "any (whole prior)", "any (whole prior)"]}',
     "seed must be a whole number within 0 .. 4294967295"),
])
def test_raw_json_non_finite_numbers_get_one_clear_message(served, name, body, says):
    status, events = raw_call(served.base_url, name, body)
    assert status == 200 and "event: complete" in events and says in events, events[:500]
