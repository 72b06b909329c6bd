"""Progress of a long command: a bar on a terminal, log lines on stderr when stdout is not one
(every 10%), so a job under cron or CI shows where it is instead of one silent label."""

from __future__ import annotations

import sys

import click


class Progress:
    """Call it with the count just done; use it as a context manager around the work."""

    def __init__(self, total: int, label: str, unit: str) -> None:
        self.total = max(1, total)
        self.label = label
        self.unit = unit
        self.done = 0
        self.logged_tenths = 0
        self.bar = (
            click.progressbar(length=total, label=label, show_pos=True, file=sys.stderr)
            if sys.stdout.isatty()
            else None
        )

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def __call__(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
            return
        tenths = min(10, self.done * 10 // self.total)
        if tenths > self.logged_tenths:
            self.logged_tenths = tenths
            click.echo(f"{self.label}: {self.done} of {self.total} {self.unit} ({tenths * 10}%)", err=True)
