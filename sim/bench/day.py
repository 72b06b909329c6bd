"""One city day of the default scenario at a given size.

tx counts card transactions run through the real protocol (taps and loads); bytes per citizen
is the peak resident memory each shard's process added while running its shard, summed over the
shards and divided by the simulated citizens. Processor seconds per shard are reported too:
other processes on the machine stretch the wall time, not those."""

from __future__ import annotations

import time

from scenarios.schema import load
from sim.day import run_day


def bench_day(cardholders: int, sample: float, shards: int, seed: int, clearing: str) -> list[str]:
    """The figures, one `key=value` line each; the last is tx_per_s, wall_s, bytes_per_citizen."""
    scenario = load().replace(
        cardholders=cardholders, sample=sample, shards=shards, seed=seed, clearing=clearing
    )
    # The run's memory is what each shard's process adds while it runs the shard (a shard's
    # process is this one, or one forked from it with the modules already loaded), not the
    # interpreter and libraries.
    start, start_cpu = time.perf_counter(), time.process_time()
    result = run_day(scenario)
    wall_s = time.perf_counter() - start
    added = sum(s.rss_added_bytes for s in result.shards)
    tx = result.taps()
    citizens = result.citizens
    build_s = sum(s.build_s for s in result.shards)
    day_s = sum(s.day_s for s in result.shards)
    cpu_s = [s.cpu_s for s in result.shards]
    lines: list[str] = []
    held = sum(s.bytes_per_citizen * s.citizens for s in result.shards) / max(1, citizens)
    lines.append(
        f"cardholders={cardholders} sample={sample} citizens={citizens} shards={shards} clearing={clearing} "
        f"build_s={build_s:.1f} day_s={day_s:.1f} held_bytes_per_citizen={held:.0f}"
    )
    lines.append(
        f"tx={tx} cpu_s_by_shard={' '.join(f'{c:.1f}' for c in cpu_s)} cpu_s_total={sum(cpu_s):.1f} "
        f"main_cpu_s={time.process_time() - start_cpu:.1f} cpu_us_per_tx={sum(cpu_s) / max(1, tx) * 1e6:.0f} "
        f"added_rss_mb_by_shard={' '.join(f'{s.rss_added_bytes / 2**20:.0f}' for s in result.shards)}"
    )
    lines.append(
        f"tx_per_s={tx / wall_s:.0f} wall_s={wall_s:.1f} bytes_per_citizen={added / max(1, citizens):.0f}"
    )
    return lines
