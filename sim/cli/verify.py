"""`cardtwin verify`: the fault-injection campaign over many seeds, and its reliability report.

Each seed is a short city period with faults injected at random (`sim.verify.campaign`); a seed that
breaks an invariant is printed with the one-line command that replays it. The report goes to
`OUT/verify-report.json` and `OUT/verify-report.txt`. Exit status 1 when any seed failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sim.cli.options import out_dir_option
from sim.cli.progress import Progress
from sim.verify import (
    DAYS_MAX,
    FAULTS,
    SAMPLE_DEFAULT,
    SEEDS_MAX,
    Report,
    VerifyError,
    parse_faults,
    replay_command,
    run_seed,
)

SEED_MAX = 2**32 - 1  # the seeded streams take 32-bit seeds


@click.command("verify")
@click.option("--seeds", type=int, default=10, show_default=True, help="How many seeds to run.")
@click.option("--first-seed", type=int, default=1, show_default=True, help="The first seed of the range.")
@click.option("--seed", type=int, default=None, help="Run this one seed (a replay).")
@click.option(
    "--faults",
    default="all",
    show_default=True,
    help=f"Fault classes, comma-separated, or all / none: {', '.join(FAULTS)}.",
)
@click.option("--days", type=int, default=2, show_default=True, help=f"City days per seed (1..{DAYS_MAX}).")
@click.option(
    "--sample", type=float, default=SAMPLE_DEFAULT, show_default=True, help="Share of cardholders simulated."
)
@out_dir_option("Folder for the report.", default=Path("results/verify"), show_default=True)
def verify(
    seeds: int, first_seed: int, seed: int | None, faults: str, days: int, sample: float, out: Path
) -> None:
    """Run seeded city periods with faults injected everywhere; check that no money is lost."""
    chosen = parse_faults(faults)
    if seed is not None:
        first_seed, seeds = seed, 1
    if not 1 <= seeds <= SEEDS_MAX:
        raise VerifyError(f"--seeds: {seeds} out of range (allowed: 1..{SEEDS_MAX})")
    if not 1 <= days <= DAYS_MAX:
        raise VerifyError(f"--days: {days} out of range (allowed: 1..{DAYS_MAX})")
    if not 0 < sample <= 0.01:
        raise VerifyError(f"--sample: {sample} out of range (allowed: 0 < sample <= 0.01)")
    if not 0 <= first_seed <= SEED_MAX - seeds:
        raise VerifyError(f"--first-seed/--seed: {first_seed} out of range (allowed: 0..{SEED_MAX - seeds})")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".verify-write-probe"
        probe.write_bytes(b"")  # an unwritable folder is refused now, not after the campaign
        probe.unlink()
    except OSError as exc:
        raise VerifyError(f"--out: {out}: cannot write the report there ({exc.strerror})") from None
    report = Report(chosen, days, sample)
    with Progress(seeds, "verify", "seeds") as advance:
        for s in range(first_seed, first_seed + seeds):
            report.results.append(run_seed(s, chosen, days, sample, out))
            advance(1)
    text = report.text()
    try:
        (out / "verify-report.json").write_text(
            json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8"
        )
        (out / "verify-report.txt").write_text("\n".join(text) + "\n", encoding="utf-8")
    except OSError as exc:
        raise VerifyError(f"--out: {out}: cannot write the report ({exc.strerror})") from None
    for line in text:
        click.echo(line)
    failed = [r for r in report.results if not r.ok]
    for r in failed:
        click.echo(f"seed {r.seed} FAILED ({len(r.violations)} violations): {r.violations[0]}", err=True)
        click.echo(f"  replay: {replay_command(r.seed, chosen, days, sample)}", err=True)
    click.echo(f"report {out / 'verify-report.json'}")
    if failed:
        sys.exit(1)
