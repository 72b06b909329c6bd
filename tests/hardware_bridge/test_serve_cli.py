"""`cardtwin card serve` as the README runs it: options checked before anything is served, and
the README's next command (`card trace --card vpcd`) reaching the served card."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "sim"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--balance", "99999999"],
            "cardtwin: error: --balance 99999999: outside 0.00..1000.00 (the card's maximum balance)",
        ),
        (
            ["--balance", "-5"],
            "cardtwin: error: --balance -5: outside 0.00..1000.00 (the card's maximum balance)",
        ),
        (["--balance", "abc"], "cardtwin: error: --balance: 'abc' is not an amount in yuan (e.g. 12.50)"),
    ],
)
def test_serve_refuses_absurd_options_in_one_line(args: list[str], message: str) -> None:
    run = subprocess.run(
        [*CLI, "card", "serve", *args], capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    assert run.returncode == 1 and run.stderr.strip().splitlines() == [message]
    assert run.stdout == ""


@pytest.mark.parametrize("args", [["--slot", "7"], ["--seconds", "-1"], ["--seconds", "nan"]])
def test_serve_usage_errors_name_the_option(args: list[str]) -> None:
    run = subprocess.run(
        [*CLI, "card", "serve", *args], capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    assert run.returncode == 2 and f"'{args[0]}'" in run.stderr and "Traceback" not in run.stderr


def test_serve_then_trace_as_the_readme_says(pcscd: object, tmp_path: Path) -> None:
    server = subprocess.Popen(
        [*CLI, "card", "serve", "--slot", "0", "--balance", "20.00", "--seconds", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(
            "serving card 3301202600000042 in reader 'Virtual PCD 00 00'"
        )
        out = tmp_path / "trace.txt"
        run = subprocess.run(
            [
                *CLI,
                "card",
                "trace",
                "--card",
                "vpcd",
                "--out",
                str(out),
                "00A4040008A000000632010105",
                "805C000204",
                "80",
                "00",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0].startswith("00A4040008A000000632010105 -> 6F2D8408A000000632010105") and lines[
            0
        ].endswith("9000 (ok)")
        assert lines[1] == "805C000204 -> 000007D0 9000 (ok)"  # the served card's 20.00, not a new card's 0
        assert lines[2:] == ["80 ->  6700 (wrong length)", "00 ->  6700 (wrong length)", f"trace: {out}"]
        again = subprocess.run(
            [*CLI, "card", "trace", "--card", "vpcd", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
        assert again.returncode == 0 and "805C000204 -> 000007D0 9000 (ok)" in again.stdout  # still serving
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(10)


def test_serve_image_round_trip_keeps_the_card(pcscd: object, tmp_path: Path) -> None:
    """A card served from an image, changed through PC/SC, is written back: a failure can be
    reproduced with the card exactly as it was (`card restore`)."""
    image = tmp_path / "card.img"
    # Started as a shell starts a background job, with SIGINT ignored: Ctrl-C's signal must still
    # stop it (CI once ran the suite that way, and the card was never written back).
    first = subprocess.Popen(
        [*CLI, "card", "serve", "--balance", "12.34", "--seconds", "120", "--image", str(image)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    with _stopped_at_the_end(first):
        _wrong_pin_then_interrupt(first, image, tmp_path)
    dump = subprocess.run(
        [*CLI, "card", "dump", str(image)], capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    assert dump.returncode == 0
    assert "EP balance 12.34 CNY, online counter 0, offline counter 0" in dump.stdout
    assert "PIN tries left 2" in dump.stdout  # the wrong PIN persisted, as on a chip
    again = subprocess.Popen(
        [*CLI, "card", "restore", str(image), "--seconds", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    with _stopped_at_the_end(again):
        assert again.stdout is not None
        assert again.stdout.readline().startswith("serving card 3301202600000042")
        balance = subprocess.run(
            [*CLI, "card", "trace", "--card", "vpcd", "--out", str(tmp_path / "t.txt")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=ENV,
        )
        assert "805C000204 -> 000004D2 9000 (ok)" in balance.stdout  # 12.34 from the image
        again.send_signal(signal.SIGTERM)  # a service manager's stop ends it as Ctrl-C does
        out, _ = again.communicate(timeout=60)
        assert again.returncode == 0 and out.strip().endswith(f"card image written to {image}")


@contextlib.contextmanager
def _stopped_at_the_end(server: subprocess.Popen[str]) -> Iterator[None]:
    # A server left running holds its vpcd slot, and every later test would find the slot taken.
    try:
        yield
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def _wrong_pin_then_interrupt(first: subprocess.Popen[str], image: Path, tmp_path: Path) -> None:
    assert first.stdout is not None and first.stdout.readline().startswith("serving card")
    wrong_pin = subprocess.run(
        [
            *CLI,
            "card",
            "trace",
            "--card",
            "vpcd",
            "--out",
            str(tmp_path / "t.txt"),
            "00A4040008A000000632010105",
            "0020000003999999",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=ENV,
    )
    assert "0020000003999999 ->  63C2 (wrong PIN, 2 tries left)" in wrong_pin.stdout, (
        wrong_pin.stdout + wrong_pin.stderr
    )
    first.send_signal(signal.SIGINT)  # Ctrl-C: the card is written back
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0 and out.strip().endswith(f"card image written to {image}"), err
