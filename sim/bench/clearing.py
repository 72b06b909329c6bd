"""The clearing house's night on one core: ingest (parse, TAC verification, checks, ledger
posting, commit), the end-of-night gap releases, T+1 settlement and the reconciliation.

Two sources of uploads:
- `twin` (the default): a real day of the default scenario through the real card code, with the
  twin's own uploads (its batch-size mix: a bus's shift, a gate's hour); the night's figures
  are those `sim.day.night.clear_night` measures around the whole night, its books checks too.
- `synthetic`: records made as the card makes them (`synthetic_batches`) in batches of
  `per_batch` records; each card's TAC key is derived once and reused, so the rate depends on
  records per card (4, a commuter's day of taps, is a fair night).

Besides the night, the figures hold the same records in 2,000-record batches (the old bench's
shape, for comparison) and a linearity measurement: the same batch size at a tenth of the
records and at all of them, and the CPU ratio (linear is 10; quadratic would be 100). The last
line is `records_per_s=N batch_records_mean=M`, N per CPU-second of the night. Speeds are best
of `repeat` runs: other processes on the machine only slow a run (the twin's night too: after
the day's own night, the same uploads are cleared again into fresh databases,
`sim.day.shards.night_again`, and the best night is reported with every night's CPU).

The twin's night also gets its floor, measured in the same run over the same records
(`clearing_floor`): each file parsed, each card's TAC key set up once and each record's TAC
chain run as the night runs it, and the batch and record rows inserted bare;
`floor_records_per_s` is what no clearing of these records can beat on this core."""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from model.backoffice import reconcile
from model.errors import CardTwinError
from model.security import generate_issuer_keys
from scenarios.schema import Scenario, load
from sim.bench.clearing_floor import decoded_records, floor_cpu_s
from sim.bench.purchase import BENCH_ISSUER_ID
from sim.bench.synthetic_batches import synthetic_batches, synthetic_registry
from sim.city import ISSUER_ID
from sim.day import BackOffice, run_day
from sim.day.shards import night_again, run_shard

COMPARISON_BATCH_RECORDS = 2_000
RECORDS_PER_CARD = 4


class BenchError(CardTwinError):
    """A benchmark that cannot run as asked."""


def _night(count: int, cards: int, per_batch: int) -> tuple[float, float, int]:
    """One synthetic night from an empty database and a cold key cache: (wall s, cpu s, db bytes)."""
    keys = generate_issuer_keys(1, BENCH_ISSUER_ID)
    files = synthetic_batches(keys, count, cards=max(1, cards), per_batch=per_batch)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "clearing.db"
        registry = synthetic_registry(50)
        clearing_day = date(2026, 11, 24)
        start, start_cpu = time.perf_counter(), time.process_time()
        office = BackOffice.open(db_path, registry, keys)
        reports = office.clearing.ingest_files(files, clearing_day)
        posted = sum(report.posted + report.auto_released for report in reports)
        settlement = office.settlement.run(clearing_day + timedelta(days=1))
        result = reconcile(office.ledger, registry)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        assert posted == count, f"posted {posted} of {count}: the synthetic records must all clear"
        assert settlement.items == count and result.ok, "every record settled once, the books agree"
        office.ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        office.close()
        return elapsed, cpu, db_path.stat().st_size


def _best(count: int, cards: int, per_batch: int, repeat: int) -> tuple[float, float, int]:
    return min(_night(count, cards, per_batch) for _ in range(repeat))


def _comparison_lines(count: int, per_batch: int, repeat: int) -> list[str]:
    cards = max(1, count // RECORDS_PER_CARD)
    _, cpu_big, _ = _best(count, cards, COMPARISON_BATCH_RECORDS, repeat)
    _, cpu_tenth, _ = _best(max(1, count // 10), max(1, cards // 10), per_batch, repeat)
    _, cpu_all, _ = _best(count, cards, per_batch, repeat)
    return [
        f"batch_{COMPARISON_BATCH_RECORDS}_records_per_s={count / cpu_big:.0f} (same records, "
        f"{COMPARISON_BATCH_RECORDS}-record batches, night included)",
        f"linearity: {count // 10} records cpu_s={cpu_tenth:.2f}, {count} records cpu_s={cpu_all:.2f}, "
        f"batches of {per_batch}: cpu_ratio_10x={cpu_all / cpu_tenth:.1f} (linear = 10)",
    ]


def bench_clearing(count: int, cards: int, repeat: int, per_batch: int = 5_000) -> list[str]:
    """Synthetic uploads: the figures, one `key=value` line each."""
    runs = [_night(count, cards, per_batch) for _ in range(repeat)]
    elapsed, cpu, db_bytes = min(runs)
    return [
        f"records={count} cards={cards} batch_records={per_batch} runs={repeat} best_seconds={elapsed:.2f}",
        f"cpu_seconds={cpu:.2f} wall_seconds_all_runs={' '.join(f'{r[0]:.2f}' for r in runs)} "
        f"bytes_per_record={db_bytes / count:.0f}",
        f"records_per_s={count / cpu:.0f} batch_records_mean={min(per_batch, count):.1f}",
    ]


def _floor_lines(scenario: Scenario, raws: list[bytes], records: int, night_cpu_s: float) -> list[str]:
    """The floor of the same night: the bare parse, TAC and insert work over the day's files
    timed (sim.bench.clearing_floor)."""
    uploaded = len(decoded_records(raws))
    if uploaded != records:
        raise BenchError(f"bench clearing: the day's rerun uploaded {uploaded} records, not {records}")
    keys = generate_issuer_keys(seed=scenario.run.seed, issuer_id=ISSUER_ID)
    parse_s, tac_s, insert_s, verified = floor_cpu_s(raws, keys)
    floor_s = parse_s + tac_s + insert_s
    return [
        f"floor: parse_cpu_s={parse_s:.3f} tac_cpu_s={tac_s:.3f} insert_cpu_s={insert_s:.3f} "
        f"(tacs verified {verified} of {records}) floor_records_per_s={records / floor_s:.0f} "
        f"night_over_floor={night_cpu_s / floor_s:.1f}x"
    ]


def bench_clearing_twin(cardholders: int, sample: float, seed: int, repeat: int) -> list[str]:
    """A real day's uploads from the twin, cleared by its night (`repeat` nights from the same
    uploads, each into a fresh database: the best is reported); then the comparison figures."""
    scenario = load().replace(
        cardholders=cardholders, sample=sample, shards=1, seed=seed, clearing="backoffice"
    )
    day_start = time.perf_counter()
    run = run_day(scenario)
    day_wall_s = time.perf_counter() - day_start
    night = run.night
    if night is None or night.batches == 0 or night.night_cpu_s <= 0:
        raise BenchError(f"bench clearing: the day of {cardholders} cardholders uploaded no batch")
    # The day again (same seed, same uploads): the floor's files and the nights after the first.
    uploads = run_shard(scenario).uploads
    nights = [night]
    for _ in range(repeat - 1):
        night_again(run, [uploads])
        assert run.night is not None
        nights.append(run.night)
    night = min(nights, key=lambda n: n.night_cpu_s)
    records, mean = night.batch_records, night.batch_records / night.batches
    lines = [
        f"day: cardholders={cardholders} sample={sample} seed={seed} wall_s={day_wall_s:.1f}",
        f"night: records={records} batches={night.batches} cleared={night.accepted_records} "
        f"settled={night.settled_records} cpu_s={night.night_cpu_s:.2f} wall_s={night.night_wall_s:.2f} "
        f"(ingest, end-of-night checks, settlement, reconciliation)"
        + (
            f" best of {repeat}: cpu_s_all_nights={' '.join(f'{n.night_cpu_s:.3f}' for n in nights)}"
            if repeat > 1
            else ""
        ),
        f"night_wall_records_per_s={records / night.night_wall_s:.0f}",
    ]
    lines += _floor_lines(scenario, [u.raw for u in uploads], records, night.night_cpu_s)
    lines += _comparison_lines(records, max(1, round(mean)), repeat)
    lines.append(f"records_per_s={records / night.night_cpu_s:.0f} batch_records_mean={mean:.1f}")
    return lines
