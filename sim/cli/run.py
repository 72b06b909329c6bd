"""`cardtwin run [SCENARIO]`: run a city day and write its results folder.

SCENARIO is a day scenario file or the name of a shipped one (`cardtwin run --list`); without
one it runs `scenarios/default.toml` (Hangzhou, a weekday of March 2009). Same scenario and
seed, same numbers to the last fen. Options are checked before anything runs, and an error
names the flag it comes from.

Exit status (every `cardtwin` command): 0 done, 1 an error the input caused (one line on
stderr: what and where), 2 a usage error (an unknown or malformed option, from click).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from model.errors import CardTwinError
from model.money import format_fen
from scenarios.schema import Scenario
from sim.city import planned_taps
from sim.cli.options import (
    dask_option,
    json_option,
    list_option,
    out_dir_option,
    sample_option,
    seed_option,
    shards_option,
)
from sim.cli.progress import Progress
from sim.cli.scenario_arg import load_day, shipped_days
from sim.day import RunResult, run_day, wait_summary, write_results
from sim.day.spending import spending_line
from sim.services.report import services_tables, summary_lines


class RunOptionError(CardTwinError):
    """A `cardtwin run` option out of range."""


@click.command("run")
@click.argument("scenario", required=False)
@list_option("List the shipped day scenarios and exit.")
@seed_option()
@sample_option()
@shards_option()
@dask_option(
    'Run the shards on a Dask cluster: a scheduler address (tcp://host:8786) or "local".', default=None
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
@out_dir_option("Results folder (default: results/<scenario name>-seed<seed>).")
@json_option()
def run(
    scenario: str | None,
    list_: bool,
    seed: int | None,
    sample: float | None,
    shards: int | None,
    dask: str | None,
    real_cards: str | None,
    real_citizens: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Run one city day of SCENARIO (a file or a shipped name; default: Hangzhou 2009) and report it."""
    if list_:
        for name in shipped_days():
            click.echo(f"{name}\t{load_day(name).source}")
        return
    s = load_day(scenario)
    changes: dict[str, object] = {
        k: v for k, v in (("seed", seed), ("sample", sample), ("shards", shards)) if v is not None
    }
    if real_cards is not None:
        changes["real_card_reader"] = real_cards
    if real_citizens is not None:
        changes["real_card_citizens"] = _citizens(real_citizens)
    if changes:
        s = s.replace(**changes)
    folder = _writable(
        out or Path("results") / f"{s.run.name}-seed{s.run.seed}", "--out" if out else "results folder"
    )
    # The progress bar counts planned taps; drawing them is cheap next to running them.
    planned = planned_taps(s)
    say = click.echo if not as_json else (lambda *_a, **_k: None)
    say(
        f"scenario {s.run.name} ({s.source}), seed {s.run.seed}, sample {s.run.sample}, shards {s.run.shards}"
    )
    with Progress(planned, "city day", "planned taps") as advance:
        result = run_day(s, advance, folder / "clearing.sqlite", dask)
    report = write_results(result, folder)
    if as_json:
        click.echo(json.dumps(_summary(s, result, report), sort_keys=True))
        return
    _print_summary(result, report)


def _writable(folder: Path, what: str) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunOptionError(f"{what} {folder}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunOptionError(f"{what} {folder}: not writable")
    return folder


def _summary(s: Scenario, r: RunResult, report: Path) -> dict[str, object]:
    closing = r.closing()
    kiosk = wait_summary(r.waits_s("kiosk"))
    m = r.metrics
    settlement = r.settlement
    return {
        "scenario": s.run.name,
        "source": s.source,
        "seed": s.run.seed,
        "sample": s.run.sample,
        "shards": s.run.shards,
        "citizens": r.citizens,
        "transactions": r.taps(),
        "loads_fen": closing.loads_fen,
        "purchases_fen": closing.purchases_fen,
        "opening_float_fen": closing.opening_float_fen,
        "closing_float_fen": closing.closing_float_fen,
        "kiosk_topups": kiosk[0],
        "kiosk_wait_s_mean": round(kiosk[1], 3),
        "kiosk_wait_s_p95": round(kiosk[2], 3),
        "rejected": dict(sorted(m.rejected.items())),
        "torn_recovered": m.torn,
        "settled_records": settlement.items if settlement is not None else 0,
        "fees_fen": settlement.fees_fen if settlement is not None else 0,
        "report": str(report),
        **_services_summary(r),
    }


def _services_summary(r: RunResult) -> dict[str, object]:
    services = r.services()
    if services is None:
        return {}
    rows = services_tables(services, r.weight)["services"][1]
    return {"services": {name: scaled for name, _unit, _sampled, scaled in rows}}


def _print_summary(result: RunResult, report: Path) -> None:
    closing = result.closing()
    m = result.metrics
    kiosk = wait_summary(result.waits_s("kiosk"))
    click.echo(f"citizens {result.citizens} (weight {result.weight:.1f}), transactions {result.taps()}")
    click.echo(
        f"loads CNY {format_fen(closing.loads_fen)}, purchases CNY {format_fen(closing.purchases_fen)}, "
        f"float CNY {format_fen(closing.opening_float_fen)} -> "
        f"{format_fen(closing.closing_float_fen)} (sampled)"
    )
    click.echo(spending_line(result))
    click.echo(f"recharge point waits: mean {kiosk[1]:.0f} s, p95 {kiosk[2]:.0f} s over {kiosk[0]} top-ups")
    rejected = ", ".join(f"{count} {why}" for why, count in sorted(m.rejected.items())) or "none"
    click.echo(f"taps refused: {rejected}; torn taps recovered: {m.torn}")
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
    services = result.services()
    for line in summary_lines(services, result.weight) if services is not None else []:
        click.echo(line)
    click.echo(f"invariants hold; clearing: {(result.night or result.shards[0].night).port}")
    click.echo(f"wall {result.wall_s:.1f} s; report {report}")


def _citizens(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: citizen numbers separated by commas", param_hint="--real-citizens"
        ) from None
