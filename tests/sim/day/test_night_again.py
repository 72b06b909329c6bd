"""The day's night cleared again from the same uploads (`night_again`, the clearing bench's best of
several nights): the same books as the day's own night, to the record and the fen."""

from __future__ import annotations

from dataclasses import replace

from scenarios.schema import load
from sim.day.shards import night_again, run_day, run_shard

SMALL = load().replace(cardholders=200_000, sample=0.002, shards=1, seed=3, clearing="backoffice")


def test_a_second_night_from_the_same_uploads_clears_the_same_books() -> None:
    run = run_day(SMALL)
    first, first_settlement = run.night, run.settlement
    assert first is not None and first_settlement is not None
    assert first.batches > 10 and first.accepted_records > 50  # a night with something in it
    night_again(run, [run_shard(SMALL).uploads])
    second = run.night
    assert second is not None and second is not first
    untimed = {"night_cpu_s": 0.0, "night_wall_s": 0.0}
    assert replace(second, **untimed) == replace(first, **untimed)
    assert run.settlement is not None and run.settlement.lines == first_settlement.lines
    assert all(check.ok for check in run.night_checks)
