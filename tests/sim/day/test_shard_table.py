"""The README's table of figures that depend on `--shards` is exactly what differs between a
1-shard and a 2-shard run of the same scenario and seed: every other result table is equal to
the fen, and in the tables that differ the money and the counts still agree."""

from __future__ import annotations

import re
from pathlib import Path

from scenarios.schema import load
from sim.day.report import tables
from sim.day.shards import run_day

README = Path(__file__).resolve().parents[3] / "README.md"
SMALL = load().replace(sample=0.0004)


def _readme_table() -> set[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("Figures that depend on `--shards`")
    block = text[start : text.index("\n\n", text.index("| ---", start))]
    return set(re.findall(r"^\| `([a-z_]+)\.csv` \|", block, flags=re.MULTILINE))


def test_readme_lists_exactly_the_tables_that_depend_on_shards() -> None:
    one, two = tables(run_day(SMALL)), tables(run_day(SMALL.replace(shards=2)))
    assert one.keys() == two.keys()
    differing = {name for name in one if one[name] != two[name]}
    listed = _readme_table()
    assert len(listed) == 6 and "money" not in listed
    # Nothing varies that the README does not say varies (which listed tables do vary depends
    # on the sample: at the default 0.005 all six, at this test's 0.0004 fewer).
    assert differing <= listed, differing - listed
    assert {"run", "invariants"} <= differing
    for name in differing:
        assert one[name][0] == two[name][0], f"{name}: the columns are the same either way"
    # Where the waits differ, as many top-ups waited; where utilisation differs, the same kinds.
    q1, q2 = {r[0]: r for r in one["queues"][1]}, {r[0]: r for r in two["queues"][1]}
    assert {k: r[1] for k, r in q1.items()} == {k: r[1] for k, r in q2.items()}
    assert [r[0] for r in one["terminals"][1]] == [r[0] for r in two["terminals"][1]]
    assert one["money"] == two["money"] and one["settlement"] == two["settlement"]
    # Every shard meets the same full-scale queue at every place (sim.day.recharge): the waits,
    # the loads' hours, the float and who funds each load are the same to the second and fen.
    for name in ("queues", "hourly", "float", "funding", "instructions"):
        assert one[name] == two[name], name
    assert any(row[1] > 0 for row in one["queues"][1])  # some top-ups waited or were served
