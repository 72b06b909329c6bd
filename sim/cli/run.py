"""`cardtwin run [SCENARIO]`: run a city day and write its results folder.

Without a scenario file it runs the default scenario shipped in `scenarios/default.toml`
(Hangzhou, a weekday of March 2009). Same scenario and seed, same numbers to the last fen.
"""

from __future__ import annotations

from pathlib import Path

import click

from model.money import format_fen
from scenarios.schema import load
from sim.city import planned_taps
from sim.day import run_day, wait_summary, write_results


@click.command("run")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
@click.option("--sample", type=float, default=None, help="Override the share of cardholders simulated.")
@click.option("--shards", type=int, default=None, help="Split the population over this many processes.")
@click.option(
    "--dask",
    default=None,
    help='Run the shards on a Dask cluster: a scheduler address (tcp://host:8786) or "local".',
)
@click.option(
    "--real-cards",
    "real_cards",
    default=None,
    metavar="SOURCE",
    help="Tap the chosen citizens' cards through this PC/SC reader (vpcd:N serves them via pcscd).",
)
@click.option(
    "--real-citizens",
    default=None,
    metavar="N,N,...",
    help="The citizens (numbers in the simulated population) whose taps go through --real-cards.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Results folder (default: results/<scenario name>-seed<seed>).",
)
def run(
    scenario: Path | None,
    seed: int | None,
    sample: float | None,
    shards: int | None,
    dask: str | None,
    real_cards: str | None,
    real_citizens: str | None,
    out: Path | None,
) -> None:
    """Run one city day of SCENARIO (default: the Hangzhou 2009 scenario) and report it."""
    s = load(scenario)
    changes: dict[str, object] = {
        k: v for k, v in (("seed", seed), ("sample", sample), ("shards", shards)) if v is not None
    }
    if real_cards is not None:
        changes["real_card_reader"] = real_cards
    if real_citizens is not None:
        changes["real_card_citizens"] = _citizens(real_citizens)
    if changes:
        s = s.replace(**changes)
    folder = out or Path("results") / f"{s.run.name}-seed{s.run.seed}"
    # The progress bar counts planned taps; drawing them is cheap next to running them.
    planned = planned_taps(s)
    click.echo(
        f"scenario {s.run.name} ({s.source}), seed {s.run.seed}, sample {s.run.sample}, shards {s.run.shards}"
    )
    with click.progressbar(length=planned, label="city day", show_pos=True) as bar:
        folder.mkdir(parents=True, exist_ok=True)
        result = run_day(s, bar.update, folder / "clearing.sqlite", dask)
    report = write_results(result, folder)
    closing = result.closing()
    m = result.metrics
    kiosk = wait_summary(result.waits_s("kiosk"))
    click.echo(f"citizens {result.citizens} (weight {result.weight:.1f}), transactions {result.taps()}")
    click.echo(
        f"loads CNY {format_fen(closing.loads_fen)}, purchases CNY {format_fen(closing.purchases_fen)}, "
        f"float CNY {format_fen(closing.opening_float_fen)} -> "
        f"{format_fen(closing.closing_float_fen)} (sampled)"
    )
    click.echo(f"recharge point waits: mean {kiosk[1]:.0f} s, p95 {kiosk[2]:.0f} s over {kiosk[0]} top-ups")
    click.echo(f"rejected: {dict(sorted(m.rejected.items()))}; torn taps recovered: {m.torn}")
    if result.settlement is not None:
        fees = result.settlement.fees_fen
        click.echo(
            f"cleared {result.night.accepted_records if result.night else 0} records, settled "
            f"{result.settlement.items} (T+1), fees CNY {format_fen(fees)}, "
            f"{len(result.settlement.lines)} participants, positions net to zero"
        )
    for reader in (shard.reader for shard in result.shards if shard.reader is not None):
        click.echo(
            f"real cards on {reader.reader}: {reader.citizens} citizens, {reader.taps} taps, "
            f"{reader.apdus} APDUs through PC/SC: round trip mean {reader.apdu_us_mean:.0f} us, "
            f"p95 {reader.apdu_us_p95:.0f} us; card swap mean {reader.swap_s_mean:.2f} s; "
            f"torn and re-presented {reader.reconnects}"
        )
    click.echo(f"invariants hold; clearing: {(result.night or result.shards[0].night).port}")
    click.echo(f"wall {result.wall_s:.1f} s; report {report}")


def _citizens(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: citizen numbers separated by commas", param_hint="--real-citizens"
        ) from None
