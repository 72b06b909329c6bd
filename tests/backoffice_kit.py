"""Shared set-up of the back-office tests: a registry for the conftest terminals, an office."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from model.backoffice.registry import Participant, Registry, Sector, TerminalEntry
from model.records.batch import NO_PSAM, write_batch
from model.records.record import TransactionRecord
from model.security.keys import IssuerKeys
from sim.day.back_office import BackOffice
from tests.conftest import MOMENT

BUS_TERMINAL = bytes.fromhex("000000000101")  # the conftest PSAM's terminal ID
LOAD_TERMINAL = bytes.fromhex("000000000901")  # the conftest load terminal
CLEARING_DAY = date(2026, 11, 24)


def registry() -> Registry:
    return Registry(
        [
            Participant("bus", "Bus company", Sector.BUS, "ICBC"),
            Participant("window", "Service window", Sector.LOAD, "HZB"),
        ],
        [TerminalEntry(BUS_TERMINAL, BUS_TERMINAL, "bus"), TerminalEntry(LOAD_TERMINAL, NO_PSAM, "window")],
    )


def office(path: Path, keys: IssuerKeys, cutoff_days: int = 7) -> BackOffice:
    return BackOffice.open(path / "clearing.db", registry(), keys, cutoff_days=cutoff_days)


def batch(records: list[TransactionRecord], seq: int = 1) -> bytes:
    terminal_id = records[0].terminal_id
    psam = NO_PSAM if records[0].tx_type.is_load else terminal_id
    return write_batch(terminal_id, psam, seq, MOMENT.replace(hour=23), records)
