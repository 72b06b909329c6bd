"""Benchmarks of the real code paths, each a plain function that runs the work and returns its
figures as `key=value` lines (the command line prints them): purchases against bare crypto
(`purchase`), the clearing house's night (`clearing`, on a twin day's uploads or on records made by
`synthetic_batches`), APDU round trips through pcscd + vpcd (`apdu`), a city day at a given size
and its scale-out over shards on Dask (`day`) and a sweep on a Dask cluster (`sweep`).
"""

from sim.bench.apdu import bench_apdu
from sim.bench.clearing import bench_clearing, bench_clearing_twin
from sim.bench.day import SHARDS_TABLE_MAX, bench_day, bench_shards_table
from sim.bench.purchase import bench_purchase
from sim.bench.sweep import bench_sweep
from sim.bench.synthetic_batches import synthetic_batches, synthetic_registry

__all__ = [
    "SHARDS_TABLE_MAX",
    "bench_apdu",
    "bench_clearing",
    "bench_clearing_twin",
    "bench_day",
    "bench_purchase",
    "bench_shards_table",
    "bench_sweep",
    "synthetic_batches",
    "synthetic_registry",
]
