"""The day's cleared card records as a TIDES `fare_transactions.csv`.

TIDES (Transit ITS Data Exchange Specification, github.com/TIDES-transit/TIDES) describes a
fare transaction in `spec/fare_transactions.schema.json`; its fields, in the spec's order, are
`FIELDS`. One row per card record the clearing house cleared (`records` with an 11-byte card
key; account payments are not fare transactions and are left out), read from the clearing
database itself, so the file says what the books say.

What each field holds here:

    transaction_id     the record's identity in the books (clearing_schema.record_identity):
                       terminal + PSAM serial for a purchase, card + counter for a load, hex
    service_date       the record's day; event_timestamp its card date-time, ISO 8601 at +08:00
                       (ASSUMPTION: terminal clocks keep China Standard Time)
    amount, balance    in currency units (TIDES `number`, GTFS prices are in the currency's
                       unit): fen / 100 written with two decimals, exactly; currency_type CNY
    fare_action        Add (a load), Enter / Exit (a metro entry of 0 fen / its charged exit),
                       Purchase (a bus or taxi fare), Other (a shop purchase with the purse)
    device_id          the terminal ID; token_id the card's ASN; fare_media_id Smart card or
                       ticket; num_riders 1; fare_product Stored value (ASSUMPTION: the agency
                       names its products; the e-purse is stored value)

Left empty, as TIDES allows, because a record does not carry them: trip_id_performed,
pattern_id, stop_sequence, vehicle_id, fare_id, stop_id, rider_category, fare_period,
fare_capped.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from sim.city import kind_of

FIELDS = (
    "transaction_id",
    "service_date",
    "event_timestamp",
    "amount",
    "currency_type",
    "fare_action",
    "trip_id_performed",
    "pattern_id",
    "stop_sequence",
    "vehicle_id",
    "device_id",
    "fare_id",
    "stop_id",
    "num_riders",
    "fare_media_id",
    "rider_category",
    "fare_product",
    "fare_period",
    "fare_capped",
    "token_id",
    "balance",
)
CURRENCY = "CNY"
UTC_OFFSET = "+08:00"
_LOAD_TYPES = (1, 2)
_SECTOR_ACTION = {"bus": "Purchase", "taxi": "Purchase", "retail": "Other"}
_QUERY = (
    "SELECT identity, day, moment, amount_fen, tx_type, terminal_id, key, balance_after_fen "
    "FROM records WHERE length(key) = 11 ORDER BY id"
)


def write_fare_transactions(clearing_db: Path, out: Path) -> int:
    """Write `out` from the clearing database's cleared card records; returns the rows written.
    Streams: one row in memory at a time, O(records)."""
    rows = 0
    db = sqlite3.connect(f"file:{clearing_db}?mode=ro", uri=True)
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(FIELDS)
            for row in db.execute(_QUERY):
                writer.writerow(_row(*row))
                rows += 1
    finally:
        db.close()
    return rows


def _row(
    identity: bytes,
    day: int,
    moment: bytes | None,
    amount_fen: int,
    tx_type: int,
    terminal_id: bytes,
    key: bytes,
    balance_after_fen: int | None,
) -> tuple[object, ...]:
    text = str(day)
    return (
        bytes(identity).hex(),
        f"{text[:4]}-{text[4:6]}-{text[6:8]}",
        _timestamp(moment),
        cny(amount_fen),
        CURRENCY,
        fare_action(tx_type, bytes(terminal_id), amount_fen),
        "",
        "",
        "",
        "",
        bytes(terminal_id).hex(),
        "",
        "",
        1,
        "Smart card or ticket",
        "",
        "Stored value",
        "",
        "",
        bytes(key)[:8].hex(),
        "" if balance_after_fen is None else cny(balance_after_fen),
    )


def cny(fen: int) -> str:
    """Fen as currency units with two decimals, exactly (no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def fare_action(tx_type: int, terminal_id: bytes, amount_fen: int) -> str:
    if tx_type in _LOAD_TYPES:
        return "Add"
    sector = kind_of(terminal_id).sector
    if sector == "metro":
        return "Enter" if amount_fen == 0 else "Exit"
    return _SECTOR_ACTION.get(sector, "Other")


def _timestamp(moment: bytes | None) -> str:
    if moment is None:
        return ""
    t = bytes(moment).hex()
    return f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}{UTC_OFFSET}"
