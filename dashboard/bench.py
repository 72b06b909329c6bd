"""Time the dashboard without a browser: `python -m dashboard.bench [--sample S]`.

Drives the real app through Streamlit's AppTest (the script runs in this process) and reports
CPU time (`time.process_time`, steadier than wall time on a shared machine) and wall time of:
the first render, a full run of the default scenario at the sidebar's default sample, the same
inputs again (from the run cache), and one month of playback. Last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

APP = str(Path(__file__).resolve().parent / "app.py")


def _timed(step: object) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    step()  # type: ignore[operator]
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> None:
    # argparse, not click: only `sim.cli` imports click, and the dashboard sits above `sim`, so
    # this developer's tool cannot be a `cardtwin` subcommand.
    parser = argparse.ArgumentParser(prog="python -m dashboard.bench", description=__doc__)
    parser.add_argument("--sample", type=float, default=None, help="sample instead of the sidebar's default")
    sample = parser.parse_args(argv).sample
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=600)
    out: dict[str, tuple[float, float]] = {}
    out["first_render"] = _timed(at.run)
    assert not at.exception, at.exception
    if sample is not None:
        next(n for n in at.number_input if n.key and n.key.startswith("sample:")).set_value(sample)
    out["default_run"] = _timed(lambda: at.button(key="run").click().run())
    assert at.success and at.success[0].value.startswith("Run finished"), at.success
    out["cached_run"] = _timed(lambda: at.button(key="run").click().run())
    out["step_month"] = _timed(lambda: at.button(key="step").click().run())
    assert not at.exception, at.exception
    for name, (cpu, wall) in out.items():
        print(f"{name:14s} cpu {cpu:6.2f} s  wall {wall:6.2f} s")
    print(" ".join(f"{k}_cpu_s={cpu:.2f} {k}_wall_s={wall:.2f}" for k, (cpu, wall) in out.items()))


if __name__ == "__main__":
    main()
