"""Clearing house ingest (parse, TAC verification, checks, ledger posting, commit) on one core.

The records are made as the card makes them (`synthetic_batches`); only the ingest is timed.
Each card's TAC key is derived once and reused, so the rate depends on records per card: 4 (a
commuter's day of taps) is a fair night. Reports records_per_s and bytes_per_record (database
bytes per cleared record, after a WAL checkpoint); records_per_s is from the best of the runs,
since other processes on the machine only slow a run."""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

from model.security import generate_issuer_keys
from sim.bench.purchase import BENCH_ISSUER_ID
from sim.bench.synthetic_batches import synthetic_batches, synthetic_registry
from sim.day import BackOffice


def bench_clearing(count: int, cards: int, repeat: int) -> list[str]:
    """The figures, one `key=value` line each."""
    keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
    files = synthetic_batches(keys, count, cards=cards)
    wire_bytes = sum(len(raw) for _, raw in files)
    runs: list[tuple[float, float, int]] = []
    for _ in range(repeat):
        # Each run starts from an empty database and a cold key cache, as a night does.
        with tempfile.TemporaryDirectory() as folder:
            db_path = Path(folder) / "clearing.db"
            office = BackOffice.open(db_path, synthetic_registry(50), keys)
            clearing_day = date(2026, 11, 24)
            start, start_cpu = time.perf_counter(), time.process_time()
            posted = 0
            for name, raw in files:
                report = office.clearing.ingest_file(raw, name, clearing_day)
                posted += report.posted + report.auto_released
            elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            assert posted == count, f"posted {posted} of {count}: the synthetic records must all clear"
            assert office.ledger.balance("float") == -sum(
                int(v) for v in office.ledger.balances("payable:").values()
            ), "every purchase moved from the float to a payable"
            office.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            office.close()
            runs.append((elapsed, cpu, db_path.stat().st_size))
    elapsed, cpu, db_bytes = min(runs)
    lines: list[str] = []
    lines.append(
        f"records={count} cards={cards} batches={len(files)} runs={repeat} best_seconds={elapsed:.2f}"
    )
    lines.append(f"cpu_seconds={cpu:.2f} wall_seconds_all_runs={' '.join(f'{r[0]:.2f}' for r in runs)}")
    lines.append(
        f"wire_bytes_per_record={wire_bytes / count:.1f} (upload format, header shared by the batch)"
    )
    lines.append(f"records_per_s={count / elapsed:.0f} bytes_per_record={db_bytes / count:.0f}")
    return lines
