"""`cardtwin clearing INGEST-DIR --db FILE`: the nightly run of the clearing house.

Ingests every batch file (`*.ctb`) of INGEST-DIR in name order (the upload order), one
transaction per file, then runs the T+1 settlement of the clearing day and prints the
settlement and the reconciliation. The participant registry, the issuer keys and the hotlist
are read from INGEST-DIR (`registry.toml`, `issuer-keys.toml`, `hotlist.toml`) unless given.

Running it again on the same folder and database posts nothing twice: a file already ingested
is recognised by its content, and a settlement day runs once. A run killed at any point leaves
the database as it was after the last file it finished; the next run carries on.

Review: `--list-held` lists the quarantine entries not released, and only that (no ingest, no
settlement); `--release ID --note TEXT`
posts a reviewed entry before the settlement, or says why it may not be (a duplicate, a reused
PSAM serial, corrupt bytes never; a forged TAC only once it verifies); `--reverify` releases every
forged-tac hold that verifies with the keys given now. One process at a time per database: a
second is refused in one line (model.backoffice.writer_lock).

`--simulate-week` first fills INGEST-DIR with a simulated week of the city (real card
transactions, every kind of upload fault: see sim.scripted.week).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click

from model.backoffice import (
    ClearingError,
    FeeSchedule,
    SettlementError,
    load_fee_schedule,
    load_hotlist_file,
    load_registry,
    reconcile,
)
from model.errors import CardTwinError
from model.records import HEADER_SIZE, parse_header
from model.security import KeyUsage, key_file_warnings, load_issuer_keys, require_usages
from model.timefmt import decode_datetime
from sim.day import BATCH_SUFFIX, BackOffice
from sim.scripted import CityWeek


def _default_day(folder: Path) -> date:
    """The day after the newest batch was made: the morning the clearing house runs."""
    newest: date | None = None
    for path in sorted(folder.glob(f"*{BATCH_SUFFIX}")):
        with path.open("rb") as handle:
            head = handle.read(HEADER_SIZE)
        try:
            created = decode_datetime(parse_header(head, path.name).created).date()
        except CardTwinError:
            continue  # a damaged file does not vote; the ingest will report it
        newest = created if newest is None or created > newest else newest
    if newest is None:
        raise ClearingError(f"{folder}: no readable batch file (*{BATCH_SUFFIX}); give --day")
    return newest + timedelta(days=1)


# A clearing house posts records up to a year late at most: older claims are void in every
# scheme, and the day arithmetic stays inside the card's BCD dates (years 2000..2099).
CUTOFF_DAYS_MAX = 366
DAY_FIRST = date(2000, 1, 1)
DAY_LAST = date(2099, 12, 31)
SEED_MAX = 2**32 - 1


def _check_options(cutoff_days: int, day: date | None, seed: int, release_ids: tuple[int, ...]) -> None:
    if not 0 <= cutoff_days <= CUTOFF_DAYS_MAX:
        raise ClearingError(
            f"--cutoff-days: {cutoff_days} is not in 0..{CUTOFF_DAYS_MAX} (a year is the longest claim)"
        )
    if day is not None and not DAY_FIRST <= day <= DAY_LAST:
        raise ClearingError(f"--day: {day} is not in {DAY_FIRST}..{DAY_LAST} (the card's BCD dates)")
    if not 0 <= seed <= SEED_MAX:
        raise ClearingError(f"--seed: {seed} is not in 0..{SEED_MAX}")
    for quarantine_id in release_ids:
        if quarantine_id < 1:
            raise ClearingError(f"--release: {quarantine_id} is not a quarantine id (they start at 1)")


def _check_list_held(
    db_path: Path, simulate_week: bool, release_ids: tuple[int, ...], reverify: bool
) -> None:
    """`--list-held` only reads: it needs a database that exists and takes no action flag."""
    for flag, given in (
        ("--simulate-week", simulate_week),
        ("--release", release_ids),
        ("--reverify", reverify),
    ):
        if given:
            raise ClearingError(f"--list-held: only reads the quarantine; run {flag} on its own")
    if not db_path.is_file():
        raise ClearingError(f"--db {db_path}: no such database (--list-held reads an existing one)")


def _simulate_week(folder: Path, db_path: Path, seed: int) -> None:
    """Play the week against the database itself: its lifecycle events (replacement, refund)
    and its mornings of clearing and settlement are part of the books being reconciled."""
    if folder.exists() and any(folder.iterdir()):
        raise ClearingError(f"{folder}: --simulate-week needs an empty or new folder")
    if db_path.exists():
        raise ClearingError(f"{db_path}: --simulate-week needs a new database")
    week = CityWeek(db_path, seed=seed)
    week.run()
    week.write(folder)
    # The simulation knows what the clearing house cannot: the balances on the cards themselves.
    click.echo("the week's own books, against the cards and the bank:")
    for line in reconcile(
        week.office.ledger, week.registry, week.live_card_balances_fen(), {"icbc-load": week.icbc}
    ).text():
        click.echo(f"  {line}")
    week.office.close()
    held = sum(len(r.quarantined) for r in week.reports)
    for line in week.settlements[-1].text():
        click.echo(line)
    click.echo(
        f"simulated week: {len(week.uploaded)} uploads cleared over {len(week.settlements)} mornings, "
        f"{held} quarantine entries, {len(week.released)} released after review; files in {folder}"
    )


def _parse_day(day_text: str | None) -> date | None:
    if day_text is None:
        return None
    try:
        return date.fromisoformat(day_text)
    except ValueError:
        raise ClearingError(f"--day: {day_text!r} is not a date YYYY-MM-DD") from None


def _ingest_and_review(
    office: BackOffice,
    ingest_dir: Path,
    day: date,
    key_file: str,
    reverify: bool,
    release_ids: tuple[int, ...],
    note: str,
) -> None:
    totals = [0, 0, 0]
    for report in office.ingest_dir(ingest_dir, day, key_file):
        if not report.already_ingested:
            for line in report.lines():
                click.echo(line)
        totals[0] += report.posted + report.auto_released
        totals[1] += len(report.quarantined)
        totals[2] += report.already_ingested
    click.echo(
        f"ingested: {totals[0]} records posted, {totals[1]} quarantine entries, {totals[2]} files seen before"
    )
    if reverify:
        released = office.clearing.release_reverified(day)
        click.echo(f"re-verified: {len(released)} forged-tac holds now verify and are released")
    for quarantine_id in release_ids:
        # Before the settlement, so a released record is paid in this run.
        office.clearing.release(quarantine_id, note, day)
        click.echo(f"released quarantine {quarantine_id}: {note}")


@click.command()
@click.argument("ingest_dir", metavar="INGEST-DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The clearing database (SQLite; created on first use).",
)
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Participant registry (TOML: terminals, PSAMs, banks; default: INGEST-DIR/registry.toml).",
)
@click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Issuer key file (`cardtwin keys new`; default: INGEST-DIR/issuer-keys.toml).",
)
@click.option(
    "--hotlist",
    "hotlist_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Hotlist of blocked cards (TOML; default: INGEST-DIR/hotlist.toml if present).",
)
@click.option(
    "--fees",
    "fees_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fee schedule (TOML; default: the built-in schedule).",
)
@click.option("--day", "day_text", default=None, help="Clearing day YYYY-MM-DD (default: newest batch + 1).")
@click.option("--cutoff-days", default=7, show_default=True, help="Records older than this are held.")
@click.option("--simulate-week", is_flag=True, help="First write a simulated week into INGEST-DIR.")
@click.option("--seed", default=1, show_default=True, help="Seed of the simulated week.")
@click.option(
    "--release", "release_ids", type=int, multiple=True, help="Release a reviewed quarantine entry."
)
@click.option("--note", default="", help="The reviewer's note for --release (required with it).")
@click.option(
    "--list-held",
    is_flag=True,
    help="List the quarantine entries not released and exit: nothing is ingested or settled.",
)
@click.option(
    "--reverify",
    is_flag=True,
    help="Release every forged-tac hold whose TAC verifies with the keys given now (a key file put right).",
)
def clearing(
    ingest_dir: Path,
    db_path: Path,
    registry_path: Path | None,
    keys_path: Path | None,
    hotlist_path: Path | None,
    fees_path: Path | None,
    day_text: str | None,
    cutoff_days: int,
    simulate_week: bool,
    seed: int,
    release_ids: tuple[int, ...],
    note: str,
    list_held: bool,
    reverify: bool,
) -> None:
    """Ingest INGEST-DIR's batch files into the clearing database, settle, reconcile."""
    day = _parse_day(day_text)
    _check_options(cutoff_days, day, seed, release_ids)
    if list_held:
        _check_list_held(db_path, simulate_week, release_ids, reverify)
    if simulate_week:
        _simulate_week(ingest_dir, db_path, seed)
    if not ingest_dir.is_dir():
        raise ClearingError(f"{ingest_dir}: not a folder")
    registry = load_registry(registry_path or ingest_dir / "registry.toml")
    key_file = keys_path or ingest_dir / "issuer-keys.toml"
    keys = load_issuer_keys(key_file)
    require_usages(keys, frozenset({KeyUsage.TAC}), str(key_file))
    for warning in key_file_warnings(key_file):
        click.echo(f"warning: {warning}", err=True)
    fees = load_fee_schedule(fees_path) if fees_path else FeeSchedule()
    if day is None:
        day = _default_day(ingest_dir)
    office = BackOffice.open(db_path, registry, keys, fees, cutoff_days)
    if list_held:
        # A look at the quarantine, not a night: nothing is ingested, settled or hotlisted.
        for quarantine_id, reason, detail in office.clearing.held():
            click.echo(f"held {quarantine_id} {reason}: {detail}")
        office.close()
        return
    hotlist_file = hotlist_path or ingest_dir / "hotlist.toml"
    if hotlist_path is not None or hotlist_file.exists():
        entries = load_hotlist_file(hotlist_file)
        with office.ledger.transaction():
            for asn, effective in entries:
                office.hotlist.add(asn, effective, effective)
    click.echo(f"clearing day {day}, database {db_path}")
    _ingest_and_review(office, ingest_dir, day, str(key_file), reverify, release_ids, note)
    try:
        settlement = office.settlement.run(day)
    except SettlementError as exc:
        click.echo(f"settlement: {exc}")
    else:
        for line in settlement.text():
            click.echo(line)
    result = reconcile(office.ledger, registry)
    for line in result.text():
        click.echo(line)
    office.close()
    if not result.ok:
        raise ClearingError("reconciliation failed: see the MISMATCH lines above")
