"""`cardtwin dashboard` stops its streamlit child when it is stopped (a real process tree)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A child that outlives its parent unless something stops it.
SLEEPER = "import time, sys; print('child up', flush=True); time.sleep(600)"
PARENT = (
    "import sys; from sim.cli.dashboard import run_until_stopped; "
    f"sys.exit(run_until_stopped([sys.executable, '-c', {SLEEPER!r}]))"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not reaped by a parent that is gone) counts as stopped
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_command_stops_its_child(sig: signal.Signals) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "child up"
        (child,) = _children(parent.pid)
        parent.send_signal(sig)
        assert parent.wait(timeout=20) == 0  # stopped on request: not a failure
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), f"the child {child} outlived the command"
    finally:
        if parent.poll() is None:
            parent.kill()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "sim", "dashboard", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_bench_options_are_checked() -> None:
    from sim.cli.dashboard import bench_command

    assert bench_command(0.001)[1:] == ["-m", "dashboard.bench", "--sample", "0.001"]
    assert bench_command(None)[1:] == ["-m", "dashboard.bench"]
    alone = _cli("--sample", "0.001")
    assert alone.returncode == 2 and "--sample is an option of --bench" in alone.stderr, alone.stderr
    absurd = _cli("--bench", "--sample", "7")
    assert absurd.returncode == 2 and "--sample" in absurd.stderr and "7" in absurd.stderr, absurd.stderr
