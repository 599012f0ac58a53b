"""bench.py scale's same-run reference: a one-element Gradio page, timed until it is mounted."""
from __future__ import annotations

import pytest

from disentangle.benchmarks.browser import CHROMIUM
from disentangle.benchmarks.scale import reference_loads


@pytest.mark.browser
def test_reference_page_is_timed_in_fresh_browsers():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y chromium)")
    times = reference_loads(2)
    assert len(times) == 2 and all(0 < t < 120 for t in times), times
