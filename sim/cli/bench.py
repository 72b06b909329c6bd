"""`cardtwin bench`: speed figures of the real code paths (benchmarks, never unit tests).

Each subcommand parses its options, runs one benchmark of `sim.bench` and prints its figures.
"""

from __future__ import annotations

import sys

import click

from model.security import Algorithm
from sim.bench import (
    SHARDS_TABLE_MAX,
    bench_apdu,
    bench_clearing,
    bench_clearing_twin,
    bench_day,
    bench_purchase,
    bench_shards_table,
    bench_sweep,
)
from sim.cli.options import (
    algorithm_option,
    dask_option,
    list_option,
    sample_option,
    seed_option,
    shards_option,
    slot_option,
    workers_option,
)
from sim.cli.scenario_arg import echo_shipped, kinds_of_sweep
from sim.cli.sweep import scenario_path
from sim.sweep import KINDS, LOCAL_WORKERS_DEFAULT, spec_from


def _echo(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.group()
def bench() -> None:
    """Speed figures of the real code paths."""


@bench.command()
@click.option(
    "--count",
    default=20_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Purchases to run (and crypto rounds).",
)
@algorithm_option("Card algorithm.")
@click.option(
    "--rounds",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Alternating rounds of full path and crypto floor; the best round of each counts.",
)
def purchase(count: int, algorithm: Algorithm, rounds: int) -> None:
    """Full-path purchases against bare crypto: prints purchases_per_s, crypto_floor_per_s, ratio."""
    _echo(bench_purchase(count, algorithm, rounds))


@bench.command()
@click.option(
    "--uploads",
    type=click.Choice(["twin", "synthetic"]),
    default="twin",
    show_default=True,
    help="twin: a real day's uploads from the twin (its batch-size mix); synthetic: made records.",
)
@click.option(
    "--cardholders",
    default=200_000,
    show_default=True,
    type=click.IntRange(1, 20_000_000),
    help="twin: the city's size (a real city has 2 to 10 million).",
)
@sample_option("twin: the share of cardholders simulated.", default=0.05, show_default=True)
@seed_option("twin: the day's seed.", default=1, show_default=True)
@click.option(
    "--count",
    default=100_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="synthetic: records.",
)
@click.option(
    "--cards",
    default=25_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="synthetic: cards the records come from (default: 4 records a card, a commuter's day).",
)
@click.option(
    "--batch-records",
    default=5_000,
    show_default=True,
    type=click.IntRange(1, 200_000),
    help="synthetic: records per batch file.",
)
@click.option(
    "--repeat", default=1, show_default=True, type=click.IntRange(1, 20), help="Runs; the best is reported."
)
def clearing(
    uploads: str,
    cardholders: int,
    sample: float,
    seed: int,
    count: int,
    cards: int,
    batch_records: int,
    repeat: int,
) -> None:
    """The clearing house's night on one core: CPU and wall, then records_per_s, batch_records_mean."""
    if uploads == "twin":
        _echo(bench_clearing_twin(cardholders, sample, seed, repeat))
    else:
        _echo(bench_clearing(count, cards, repeat, batch_records))


@bench.command()
@click.option(
    "--count", default=2_000, show_default=True, type=click.IntRange(1, 1_000_000), help="APDUs each way."
)
@slot_option()
@click.option(
    "--purchases", default=200, show_default=True, type=click.IntRange(1, 100_000), help="Purchases each way."
)
def apdu(count: int, slot: int, purchases: int) -> None:
    """Per-APDU round trip through pcscd + vpcd against in process (needs a running pcscd),
    and whole purchases the same two ways: prints pcsc_us_per_apdu and inprocess_us_per_apdu."""
    _echo(bench_apdu(count, slot, purchases))


@bench.command()
@click.option(
    "--cardholders",
    default=2_010_000,
    show_default=True,
    type=click.IntRange(1, 100_000_000),
    help="Cardholders in the city.",
)
@sample_option("Share of cardholders simulated.", default=0.01, show_default=True)
@shards_option("Population shards (processes).", default=1, show_default=True)
@seed_option("Random seed.", default=1, show_default=True)
@click.option(
    "--clearing",
    type=click.Choice(["inbox", "backoffice"]),
    default="inbox",
    show_default=True,
    help="inbox: the day only (the clearing house has its own bench); backoffice: the night's "
    "clearing and settlement included in the CPU and wall time.",
)
@click.option(
    "--shards-table",
    default=None,
    metavar="K,K,...",
    help="Instead of one run: a table of CPU per transaction, one whole day per shard count "
    "(e.g. 1,2,4,8), the shards on a Dask cluster (--dask).",
)
@dask_option('With --shards-table: "local" (a LocalCluster) or a scheduler tcp://HOST:PORT.')
def day(
    cardholders: int,
    sample: float,
    shards: int,
    seed: int,
    clearing: str,
    shards_table: str | None,
    dask: str,
) -> None:
    """One city day of the default scenario at a given size: prints CPU and wall, a full-scale
    estimate, then cpu_us_per_tx and bytes_per_citizen (measured) on the last line."""
    if shards_table is None:
        _echo(bench_day(cardholders, sample, shards, seed, clearing))
        return
    _echo(bench_shards_table(cardholders, sample, _shard_counts(shards_table), seed, clearing, dask))


def _shard_counts(text: str) -> list[int]:
    """`1,2,4,8` -> [1, 2, 4, 8]; each 1..SHARDS_TABLE_MAX."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: a comma-separated list of shard counts", param_hint="'--shards-table'"
        ) from None
    if not counts or any(not 1 <= k <= SHARDS_TABLE_MAX for k in counts):
        raise click.BadParameter(
            f"{text!r}: each shard count 1..{SHARDS_TABLE_MAX}", param_hint="'--shards-table'"
        )
    return counts


@bench.command("sweep")
@click.argument("scenario", required=False)
@list_option("List the shipped scenarios of --kind (the names SCENARIO takes) and exit.")
@click.option(
    "--param",
    default="city.recharge_points=150,600,1000,2000",
    show_default=True,
    help="NAME=VALUES: a list a,b,c or a range start:stop:count.",
)
@click.option("--seeds", type=int, default=5, show_default=True, help="Replications per point.")
@click.option("--kind", type=click.Choice(KINDS), default="day", show_default=True, help="What one run is.")
@sample_option(
    "Share of cardholders simulated a day.", checked_by_engine=True, default=0.001, show_default=True
)
@dask_option()
@workers_option(LOCAL_WORKERS_DEFAULT)
def sweep(
    scenario: str | None,
    list_: bool,
    param: str,
    seeds: int,
    kind: str,
    sample: float,
    dask: str,
    workers: int,
) -> None:
    """Run a sweep of SCENARIO (a file or a shipped name; 20 runs by default) and print its wall time."""
    if list_:
        echo_shipped(kinds_of_sweep(kind))
        return
    spec = spec_from(kind, scenario_path(kind, scenario), param, seeds, None, sample)
    runs = len(spec.tasks())
    with click.progressbar(length=runs, label=f"{runs} runs", show_pos=True, file=sys.stderr) as bar:
        _echo(bench_sweep(spec, dask, workers, lambda _: bar.update(1)))
