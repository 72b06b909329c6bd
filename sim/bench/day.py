"""One city day of the default scenario at a given size, and its scale-out over shards.

tx counts card transactions run through the real protocol: the day's taps and loads (the
opening balances are the clearing house's opening float, not loads). CPU is what the
run's processes spent (this one and its shard processes, `os.times`): the build, the day and,
with `--clearing backoffice`, the night's clearing house; wall is printed beside it, but on a
machine shared with other work only CPU is the run's own. The full-scale estimate scales the
CPU linearly from the sampled citizens to every cardholder (a day's work is per citizen and
per tap; the fixed part, the fleet and the keys, is small beside it at any size the estimate
is quoted for). build_cpu_s_by_shard is each shard's CPU for building its world (the
population's draws, its opening balances, its cards, its demand), before the day.

bytes_per_citizen is measured, not derived: the peak anonymous resident memory each shard's
process added while building and running its shard (`AnonPeak`: its heap, Python objects and
arrays), summed over the shards and divided by their citizens (the sampled citizens, not the
cardholders they stand for). The peak comes at the day's end, as the tapped cards' images
have grown. A shard also holds ~1.7 MB whatever its size (the interpreter's free lists and
1 MiB object arenas, the 175 medical cashiers' terminals, which are not sampled, the SQLite
schemas, the service centre in shard 0): ~170 B a citizen at 10,000 citizens a shard, ~17 at
100,000, so the figure falls as the sample grows toward full scale.
"""

from __future__ import annotations

import os
import time

from model import native
from scenarios.schema import load
from sim.day import run_day
from sim.day.shards import RunResult

SHARDS_TABLE_MAX = 64


def _cpu_s() -> float:
    """Processor seconds of this process and its waited-for children (the shard pool's)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bench_day(cardholders: int, sample: float, shards: int, seed: int, clearing: str) -> list[str]:
    """The figures, one `key=value` line each; the last ends with cpu_us_per_tx and
    bytes_per_citizen."""
    scenario = load().replace(
        cardholders=cardholders, sample=sample, shards=shards, seed=seed, clearing=clearing
    )
    start, start_cpu = time.perf_counter(), _cpu_s()
    result = run_day(scenario)
    wall_s, cpu_s = time.perf_counter() - start, _cpu_s() - start_cpu
    taps = result.taps()
    tx = taps
    night_cpu_s = result.night.night_cpu_s if result.night is not None else 0.0
    shard_cpu_s = [s.cpu_s for s in result.shards]
    full_cpu_s = cpu_s / sample
    return [
        f"cardholders={cardholders} sample={sample} citizens={result.citizens} shards={shards} "
        f"clearing={clearing} code={native.status()} build_s={sum(s.build_s for s in result.shards):.1f} "
        f"day_s={sum(s.day_s for s in result.shards):.1f} "
        f"build_cpu_s_by_shard={' '.join(f'{s.build_cpu_s:.1f}' for s in result.shards)}",
        f"tx={tx} "
        f"cpu_s_by_shard={' '.join(f'{c:.1f}' for c in shard_cpu_s)} night_cpu_s={night_cpu_s:.2f} "
        f"day_cpu_us_per_tx={sum(shard_cpu_s) / max(1, tx) * 1e6:.0f} "
        f"added_rss_mb_by_shard={' '.join(f'{s.rss_added_bytes / 2**20:.0f}' for s in result.shards)}",
        f"full_scale_estimate cardholders={cardholders} tx={tx / sample:.0f} cpu_s={full_cpu_s:.0f} "
        f"wall_s_on_2_cores={full_cpu_s / 2:.0f} (CPU per citizen as measured here, times every cardholder)",
        f"cpu_s={cpu_s:.1f} wall_s={wall_s:.1f} tx_per_cpu_s={tx / max(cpu_s, 1e-9):.0f} "
        f"cpu_us_per_tx={cpu_s / max(1, tx) * 1e6:.0f} bytes_per_citizen={_bytes_per_citizen(result):.0f}",
    ]


def _bytes_per_citizen(result: RunResult) -> float:
    return sum(s.rss_added_bytes for s in result.shards) / max(1, result.citizens)


def bench_shards_table(
    cardholders: int, sample: float, shards_list: list[int], seed: int, clearing: str, dask: str
) -> list[str]:
    """CPU per transaction as the shard count grows, each row a whole day on a Dask cluster
    (`dask`: "local" for a LocalCluster, or a scheduler address), its shards' uploads cleared
    at one clearing house when `clearing` is backoffice. Flat CPU per tx is scale-out working;
    a row's wall time is bounded by the cores the cluster really has."""
    lines = [f"cardholders={cardholders} sample={sample} clearing={clearing} dask={dask}"]
    lines.append(
        "shards citizens tx shard_cpu_s night_cpu_s cpu_us_per_tx wall_s worker_added_bytes_per_citizen"
    )
    for shards in shards_list:
        scenario = load().replace(
            cardholders=cardholders, sample=sample, shards=shards, seed=seed, clearing=clearing
        )
        start = time.perf_counter()
        result = run_day(scenario, dask=dask)
        wall_s = time.perf_counter() - start
        tx = result.taps()
        shard_cpu_s = sum(s.cpu_s for s in result.shards)
        night_cpu_s = result.night.night_cpu_s if result.night is not None else 0.0
        cpu_us_per_tx = (shard_cpu_s + night_cpu_s) / max(1, tx) * 1e6
        lines.append(
            f"{shards} {result.citizens} {tx} {shard_cpu_s:.1f} {night_cpu_s:.1f} "
            f"{cpu_us_per_tx:.0f} {wall_s:.1f} {_bytes_per_citizen(result):.0f}"
        )
    # A Dask worker lives on between rows and tasks, and a shard reuses what an earlier one
    # freed: its added memory is a lower bound (a row measured 40 B a citizen), not a figure.
    lines.append(
        "worker_added_bytes_per_citizen: added to reused Dask workers, a lower bound; "
        "bench day --shards K (fresh processes) measures bytes_per_citizen"
    )
    return lines
