"""`cardtwin run --out DIR` writes the cleared records as TIDES fare_transactions.csv: one row
per cleared card record, money in CNY equal to the clearing database to the fen."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from decimal import Decimal
from pathlib import Path

from scenarios.schema import load
from sim.day.report import write_results
from sim.day.shards import run_day
from sim.day.tides import FIELDS, cny, fare_action

SMALL = load().replace(sample=0.0004)
# spec/fare_transactions.schema.json of TIDES-transit/TIDES: the fields in the spec's order.
TIDES_FIELDS = [
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
]
TIDES_ACTIONS = {
    "Unknown action type",
    "Purchase",
    "Enter",
    "Exit",
    "Transfer entrance",
    "Transfer exit",
    "Add",
    "Activate",
    "Adjust",
    "Other",
}


def _fen(text: str) -> int:
    value = Decimal(text) * 100
    assert value == value.to_integral_value(), f"{text} is not whole fen"
    return int(value)


def test_fare_transactions_csv_equals_the_clearing_database(tmp_path: Path) -> None:
    run = run_day(SMALL, clearing_db=tmp_path / "clearing.sqlite")
    write_results(run, tmp_path)
    with (tmp_path / "fare_transactions.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == TIDES_FIELDS == list(FIELDS)
        rows = list(reader)
    with sqlite3.connect(tmp_path / "clearing.sqlite") as db:
        count, loads, purchases = db.execute(
            "SELECT COUNT(*), SUM(CASE WHEN tx_type IN (1, 2) THEN amount_fen ELSE 0 END), "
            "SUM(CASE WHEN tx_type NOT IN (1, 2) THEN amount_fen ELSE 0 END) FROM records "
            "WHERE length(key) = 11"
        ).fetchone()
        by_day = dict(db.execute("SELECT day, COUNT(*) FROM records WHERE length(key) = 11 GROUP BY day"))
    assert len(rows) == count > 1000
    assert len({r["transaction_id"] for r in rows}) == len(rows)  # TIDES primary key
    added = sum(_fen(r["amount"]) for r in rows if r["fare_action"] == "Add")
    spent = sum(_fen(r["amount"]) for r in rows if r["fare_action"] != "Add")
    assert (added, spent) == (loads, purchases)
    assert loads == sum(line.loads_fen for line in run.settlement.lines)  # type: ignore[union-attr]
    assert Counter(int(r["service_date"].replace("-", "")) for r in rows) == by_day
    actions = Counter(r["fare_action"] for r in rows)
    assert set(actions) <= TIDES_ACTIONS and {"Add", "Purchase", "Enter", "Exit"} <= set(actions)
    assert {r["currency_type"] for r in rows} == {"CNY"}
    first = rows[0]
    assert first["event_timestamp"].startswith(first["service_date"] + "T")
    assert first["event_timestamp"].endswith("+08:00") and len(first["token_id"]) == 16
    assert all(_fen(r["balance"]) >= 0 for r in rows)


def test_money_in_currency_units_is_exact() -> None:
    assert [cny(f) for f in (0, 5, 182, 100_000_00, -7)] == ["0.00", "0.05", "1.82", "100000.00", "-0.07"]
    metro = bytes.fromhex("3301") + bytes((2,)) + bytes(3)  # a gate: Kind 2
    assert fare_action(0x06, metro, 0) == "Enter" and fare_action(0x06, metro, 300) == "Exit"
    assert fare_action(0x02, metro, 5000) == "Add"
