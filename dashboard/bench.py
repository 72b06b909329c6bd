"""Time the dashboard without a browser: `python -m dashboard.bench [--sample S]`
(`cardtwin dashboard --bench` runs it).

Drives the real app through Streamlit's AppTest (the script runs in this process) and reports
CPU time (`time.process_time`, steadier than wall time on a shared machine) and wall time of:
the first render, a full run of the default scenario at the sidebar's default sample, the same
inputs again (from the run cache), one month of playback on the rollout view and on the city
map (its district outlines included), and the first visit of the downloads (every figure
rendered to PNG). The floor, measured in the same run, is AppTest rendering a one-line script:
what any page costs before the dashboard does anything. The targets of issue 15 (first page
<= 2 s, a playback step <= 0.3 CPU-s) are printed beside what was measured. Last line is
key=value pairs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

APP = str(Path(__file__).resolve().parent / "app.py")
FIRST_PAGE_S_MAX = 2.0
STEP_CPU_S_MAX = 0.3
Timed = tuple[float, float]


def _timed(step: Callable[[], object]) -> Timed:
    cpu, wall = time.process_time(), time.perf_counter()
    step()
    return time.process_time() - cpu, time.perf_counter() - wall


def floor() -> Timed:
    """AppTest rendering a script of one title: the framework's own cost of a page."""
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory(prefix="cardtwin-bench-") as tmp:
        script = Path(tmp) / "floor.py"
        script.write_text('import streamlit as st\nst.title("floor")\n')
        at = AppTest.from_file(str(script))
        at.run()  # the first run imports what AppTest needs: not the floor of a page
        return _timed(at.run)


def measure(sample: float | None) -> dict[str, Timed]:
    from streamlit.testing.v1 import AppTest

    out: dict[str, Timed] = {"floor_render": floor()}
    at = AppTest.from_file(APP, default_timeout=600)
    out["first_render"] = _timed(at.run)
    assert not at.exception, at.exception
    if sample is not None:
        next(n for n in at.number_input if n.key and n.key.startswith("sample:")).set_value(sample)
    out["default_run"] = _timed(lambda: at.button(key="run").click().run())
    assert at.success and at.success[0].value.startswith("Run finished"), at.success
    out["cached_run"] = _timed(lambda: at.button(key="run").click().run())
    out["step_month"] = _timed(lambda: at.button(key="step").click().run())
    at.radio(key="view:en").set_value("view_city").run()
    out["step_month_city"] = _timed(lambda: at.button(key="step").click().run())
    out["downloads_first"] = _timed(lambda: at.radio(key="view:en").set_value("view_downloads").run())
    assert not at.exception, at.exception
    return out


def main(argv: list[str] | None = None) -> None:
    # argparse, not click: only `sim.cli` imports click, and the dashboard sits above `sim`, so
    # this tool is run by `cardtwin dashboard --bench` as a child process, not imported.
    parser = argparse.ArgumentParser(prog="python -m dashboard.bench", description=__doc__)
    parser.add_argument("--sample", type=float, default=None, help="sample instead of the sidebar's default")
    out = measure(parser.parse_args(argv).sample)
    for name, (cpu, wall) in out.items():
        print(f"{name:16s} cpu {cpu:6.2f} s  wall {wall:6.2f} s")
    first_cpu, first_wall = out["first_render"]
    steps_cpu = max(out["step_month"][0], out["step_month_city"][0])
    first = "met" if first_wall <= FIRST_PAGE_S_MAX else "missed"
    step = "met" if steps_cpu <= STEP_CPU_S_MAX else "missed"
    print(
        f"targets: first page {first_wall:.2f} s wall ({first_cpu:.2f} CPU-s), <= {FIRST_PAGE_S_MAX} s: "
        f"{first}; playback step {steps_cpu:.2f} CPU-s, <= {STEP_CPU_S_MAX}: {step}"
    )
    print(" ".join(f"{k}_cpu_s={cpu:.2f} {k}_wall_s={wall:.2f}" for k, (cpu, wall) in out.items()))


if __name__ == "__main__":
    main()
