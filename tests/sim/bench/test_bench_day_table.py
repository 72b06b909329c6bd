"""`bench day --shards-table` on a real LocalCluster: one whole day per shard count, the same
day however it is split, and its CPU per transaction computed from the row's own figures."""

from __future__ import annotations

from sim.bench.day import bench_shards_table


def test_a_shards_table_gives_the_same_day_per_row_and_says_its_memory_is_a_lower_bound() -> None:
    lines = bench_shards_table(300_000, 0.01, [1, 2], seed=3, clearing="backoffice", dask="local")
    assert lines[0] == "cardholders=300000 sample=0.01 clearing=backoffice dask=local"
    assert lines[1].split() == [
        "shards", "citizens", "tx", "shard_cpu_s", "night_cpu_s", "cpu_us_per_tx", "wall_s",
        "worker_added_bytes_per_citizen",
    ]  # fmt: skip
    rows = [line.split() for line in lines[2:4]]
    assert [r[0] for r in rows] == ["1", "2"]
    assert rows[0][1:3] == rows[1][1:3] and int(rows[0][2]) > 3_000  # citizens and transactions
    for r in rows:
        shard_cpu_s, night_cpu_s, cpu_us_per_tx = float(r[3]), float(r[4]), int(r[5])
        assert night_cpu_s > 0  # the shards' uploads were cleared at one clearing house
        # The printed CPU figures are rounded to 0.1 s: the per-transaction figure agrees within that.
        low = (shard_cpu_s + night_cpu_s - 0.1) / int(r[2]) * 1e6
        high = (shard_cpu_s + night_cpu_s + 0.1) / int(r[2]) * 1e6
        assert low - 1 <= cpu_us_per_tx <= high + 1
    assert lines[4].startswith("worker_added_bytes_per_citizen: added to reused Dask workers, a lower bound")
