#!/usr/bin/env python
"""Start the app as a Hugging Face Space would, from scratch, and click one point.

    python scripts/simulate_space.py [--repo .] [--venv VENV] [--wait-full S] [--keep]

1. `git clone` the repository (its committed HEAD; no `data/`, no caches) into
   a temporary folder;
2. a fresh venv there, `pip install -r requirements.txt` (timed; its size is
   measured with `du`); the Debian packages of `packages.txt` must already be
   installed (a Space installs them with apt before pip; this script only
   checks them with `dpkg -s`). `--venv` reuses an existing venv instead (no
   install, none timed);
3. `python app/main.py` in the clone with `GRADIO_SERVER_NAME`/`_PORT` set, as
   a Space runs it;
4. a `gradio_client` call of `/render_point` on the first corpus item, which
   must return a playable audio file;
5. with `--wait-full`, the wait until the app serves the full corpus (it
   serves a first part of it first) and a click on a row only that has.
Prints the install time, venv size, the cold start until the server answers
and until the first click returned audio, and exits non-zero on any failure.
Needs `gradio_client` in the interpreter that runs it (`pip install -e .[test]`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def folder_size(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def missing_debian_packages(packages_txt: Path) -> list[str]:
    names = [ln.strip() for ln in packages_txt.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [n for n in names if subprocess.run(["dpkg", "-s", n], capture_output=True, check=False).returncode != 0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the app did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def first_click(url: str) -> tuple[str, str]:
    """(model, audio file) of `/render_point` on corpus row 0 of the app's first model."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    info = client.view_api(return_format="dict", print_info=False)
    params = info["named_endpoints"]["/render_point"]["parameters"]
    choices = params[0].get("type", {}).get("enum") or []
    model = choices[0] if choices else params[0].get("parameter_default") or params[0].get("default")
    out = client.predict(model, "c:0", "A", "reconstruction", api_name="/render_point")
    audio = out[0]
    path = audio if isinstance(audio, str) else (audio or {}).get("path") if isinstance(audio, dict) else None
    if not path or not Path(path).is_file() or Path(path).stat().st_size < 1000:
        raise RuntimeError(f"/render_point returned no audio: {out!r:.400}")
    return str(model), path


#: The line the app logs when the full corpus replaced the first part
#: (`disentangle.explore.staged.SERVED`; not imported: this process must not load torch).
FULL = "the full corpus (built in the background) replaced the first part"
#: A row of the full default corpus that its first part has not (660 rows; 9,825 in all).
FULL_ONLY_ROW = "c:1000"


def wait_full_corpus(url: str, model: str, proc: subprocess.Popen, log: Path, start: float,
                     timeout: float) -> float:
    """Seconds after launch until the app's log says the full corpus is served (then one click on it)."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while FULL not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the full corpus was not served within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(2)
    seconds = time.perf_counter() - start
    out = Client(url, verbose=False).predict(model, FULL_ONLY_ROW, "A", "reconstruction", api_name="/render_point")
    if not out[0]:
        raise RuntimeError(f"/render_point on the full corpus returned no audio: {out!r:.400}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", default=str(REPO), help="repository to clone (its committed HEAD)")
    p.add_argument("--python", default="python3", help="interpreter for the Space's venv")
    p.add_argument("--timeout", type=float, default=600, help="seconds the app may take to answer")
    p.add_argument("--venv", default=None, help="reuse this venv (e.g. one a previous run kept with --keep) "
                   "instead of installing requirements.txt into a fresh one; the install is then not timed")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--json", default=None, help="also write the figures to this JSON file")
    p.add_argument("--wait-full", type=float, default=0, help="then wait up to this many seconds for the "
                   "app to serve the full corpus (it serves a first part first) and click a row only it has")
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="space-"))
    clone, venv, log = work / "app", work / "venv", work / "app.log"
    proc = None
    try:
        run(["git", "clone", "--quiet", args.repo, str(clone)])
        missing = missing_debian_packages(clone / "packages.txt")
        if missing:
            print(f"error: install the Debian packages of packages.txt first: apt-get install {' '.join(missing)}",
                  file=sys.stderr)
            return 2
        assert not (clone / "data").exists(), "a fresh clone has no data/"
        install_s: float | None = None
        if args.venv:
            venv = Path(args.venv).resolve()  # the folder itself: du does not follow a link
            print(f"reusing the venv {venv} (no install)", flush=True)
        else:
            run([args.python, "-m", "venv", str(venv)])
            start = time.perf_counter()
            run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
                cwd=clone)
            install_s = time.perf_counter() - start
        venv_bytes = folder_size(venv)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISENTANGLE_", "PYTHON"))}
        env.update(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                   GRADIO_ANALYTICS_ENABLED="False")
        url = f"http://127.0.0.1:{port}/"
        start = time.perf_counter()
        with open(log, "w") as out:
            proc = subprocess.Popen([str(venv / "bin" / "python"), "app/main.py"], cwd=clone, env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        wait_for(url, proc, log, args.timeout)
        serving_s = time.perf_counter() - start
        model, audio = first_click(url)
        first_answer_s = time.perf_counter() - start
        print(f"serving after {serving_s:.1f} s, first click ({model}) returned audio after {first_answer_s:.1f} s",
              flush=True)
        full_s = wait_full_corpus(url, model, proc, log, start, args.wait_full) if args.wait_full else None
        figures = {"install_s": None if install_s is None else round(install_s, 1),
                   "venv_reused": bool(args.venv), "venv_gb": round(venv_bytes / 1e9, 2),
                   "serving_s": round(serving_s, 1), "first_answer_s": round(first_answer_s, 1),
                   "full_corpus_s": None if full_s is None else round(full_s, 1),
                   "model": model, "audio_bytes": Path(audio).stat().st_size}
        installed = "venv reused" if install_s is None else f"install {install_s:.0f} s"
        print(f"{installed}, venv {venv_bytes / 1e9:.2f} GB; cold start: serving after "
              f"{serving_s:.1f} s, first click ({model}) returned audio after {first_answer_s:.1f} s"
              + ("" if full_s is None else f", full corpus served after {full_s:.1f} s"))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log.is_file():
            print("--- app log (tail) ---\n" + log.read_text()[-1500:])
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
