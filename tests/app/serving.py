"""A demo served on loopback for the app tests that call it over HTTP."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def served_demo(ex) -> Iterator:
    """The explorer's demo (PCA maps) served on a free loopback port: yields (demo, base URL)."""
    import map_store
    import plotly_route
    from layout import BRIDGE_JS
    from main import build_demo

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = build_demo(ex, "pca").queue()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                js=BRIDGE_JS, head=plotly_route.HEAD, app_kwargs=plotly_route.app_kwargs())
    map_store.install(demo.app)  # as main.py does: the page fetches each map from it
    plotly_route.install(demo.app)  # ... and the plotly.js that draws it
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
