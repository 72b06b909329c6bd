"""`cardtwin dashboard`: start the Streamlit dashboard (dashboard/app.py) in a subprocess.

The layers forbid sim/ to import dashboard/, so this command only *locates* the app: the
package's folder comes from `importlib.util.find_spec`, which reads no dashboard code, and
Streamlit runs the script in its own process, exactly as `streamlit run` would.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

import click

from model.errors import CardTwinError


class DashboardError(CardTwinError):
    """The dashboard cannot be started (not installed with this CardTwin)."""


def app_path() -> Path:
    spec = importlib.util.find_spec("dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise DashboardError("dashboard: the dashboard package is not installed with this CardTwin")
    path = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    if not path.is_file():
        raise DashboardError(f"dashboard: {path} is missing")
    return path


def streamlit_command(port: int, headless: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
    ]


def bench_command(sample: float | None) -> list[str]:
    """The dashboard's benchmark (`python -m dashboard.bench`), run as a child like the app."""
    app_path()  # the same check: the dashboard is installed with this CardTwin
    return [sys.executable, "-m", "dashboard.bench", *([] if sample is None else ["--sample", repr(sample)])]


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="HTTP port")
@click.option("--headless/--browser", default=False, help="do not open a browser (servers, CI)")
@click.option(
    "--bench",
    is_flag=True,
    help="time the app instead of serving it: first page, a run, a playback step (CPU and wall seconds)",
)
@click.option(
    "--sample",
    type=click.FloatRange(1e-5, 1.0),
    default=None,
    help="with --bench: the sample of the timed run (default: the sidebar's)",
)
def dashboard(port: int, headless: bool, bench: bool, sample: float | None) -> None:
    """Start the rollout dashboard (Streamlit) at http://localhost:PORT; Ctrl-C stops it."""
    if sample is not None and not bench:
        raise click.UsageError("--sample is an option of --bench")
    if bench:
        sys.exit(run_until_stopped(bench_command(sample)))
    command = streamlit_command(port, headless)
    click.echo(f"cardtwin: dashboard at http://localhost:{port} (Ctrl-C stops it)", err=True)
    sys.exit(run_until_stopped(command))


STOP_S = 10  # how long streamlit may take to shut down before it is killed


def run_until_stopped(command: list[str]) -> int:
    """Run `command` as a child; SIGTERM or SIGINT to this process stops the child too.

    A plain `subprocess.call` leaves streamlit running when a service manager sends SIGTERM
    (Python's default SIGTERM action ends only this process), so both signals are caught and
    passed on; the child gets STOP_S to exit, then is killed.
    """
    child = subprocess.Popen(command)
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                code = child.wait(timeout=STOP_S if stopping else None)
                break
            except subprocess.TimeoutExpired:
                child.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else code
