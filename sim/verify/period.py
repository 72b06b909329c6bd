"""One seed's period: its faulty city days, each followed by a night at the clearing house, and
the close of the period.

Every day is a `FaultyDay` of the same world; its uploads travel through the period's
`FaultyPort` and arrive over the following hours or nights. Every night the clearing house
starts from its database, ingests what has arrived by then in order of arrival (a
`clearing-crash` interrupts SQLite mid-statement once a night, a `clearing-kill9` SIGKILLs the
ingest running in a child process on the first night; after either a new clearing house ingests
the night's files again, earlier ones being no-ops by digest), settles the day before and has
its books checked (`sim.verify.checks`) against the seed's ground truth. At the close the
terminals upload what they still hold, every upload arrives, a reviewer releases what may be
paid and the last settlement runs.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from devices.card_state import CardState
from model.backoffice import (
    ABNORMAL_SAMPLES_MIN,
    RELEASABLE,
    SAMPLE_HEAD_BYTES,
    ClearingError,
    Reason,
    Registry,
    TacVerifier,
    book_opening_float,
    check_night_keys,
    find_clones,
    reconcile,
)
from model.records import decode_record
from model.security import IssuerKeyStore, KeyUsage, generate_issuer_keys
from scenarios.schema import Scenario
from sim.city import (
    ACCOUNT_OPENING_FEN,
    Kind,
    Terminal,
    World,
    draw_columns,
    draw_demand,
    for_shard,
    load_participant,
)
from sim.day import DAY_S, BackOffice, check_day
from sim.rng import stream
from sim.verify.checks import (
    BankBooks,
    Check,
    ClearedRow,
    bank_accounts,
    banks_against_books,
    cleared_once,
    database_intact,
    held_for_review,
    holds_explained,
    hotlist_honoured,
    in_transit_fen,
    is_genuine,
    money_conserved,
    never_back,
    no_clones,
    period_closed,
    reconciliation,
    records_accounted,
    settled_once,
    settlement_nets,
    violations,
)
from sim.verify.faulty_day import FaultyDay, FaultyPort, GroundTruth, Transit
from sim.verify.ingest import ingest_killed_at, second_writer_refused
from sim.verify.kill_clearing import killed_runs_match

SIGKILLS_PER_SEED = 2  # clearing-sigkill: kills of the real command in its first night, then a full rerun
CLEARING_CRASH_OPS = 20  # SQLite VM steps between interrupt checks

_CLEARED = "SELECT key, amount_fen, terminal_id, serial FROM records WHERE length(key) = 11"
_HELD = (
    "SELECT raw, reason FROM quarantine WHERE key IS NOT NULL "
    "AND id NOT IN (SELECT quarantine_id FROM releases UNION SELECT quarantine_id FROM rejections)"
)
_UNDECIDED_RECORDS = (
    "SELECT raw, reason FROM quarantine WHERE raw IS NOT NULL "
    "AND id NOT IN (SELECT quarantine_id FROM releases UNION SELECT quarantine_id FROM rejections)"
)
_CLEARED_LOADS = (
    "SELECT COALESCE(SUM(amount_fen), 0) FROM records WHERE participant = ? AND tx_type IN (1, 2)"
)
_UNSETTLED = (
    "SELECT COUNT(*) FROM records r WHERE r.day <= ? "
    "AND NOT EXISTS (SELECT 1 FROM settled s WHERE s.record_id = r.id)"
)
_ORPHANS = (
    "SELECT COUNT(*) FROM settled s WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = s.record_id)"
)


def day_scenario(base: Scenario, day_index: int) -> Scenario:
    """Day n of the period: the next date, its own demand streams (the issuer keys stay)."""
    run = dataclasses.replace(
        base.run,
        date=(base.run.day + timedelta(days=day_index)).isoformat(),
        seed=base.run.seed * 1_000 + day_index if day_index else base.run.seed,
    )
    return dataclasses.replace(base, run=run)


class Period:
    """The seed's days and nights over one clearing database. It owns the uploads on their way
    (`port`), the violations found, and what the checks compare night to night."""

    def __init__(
        self,
        base: Scenario,
        world: World,
        registry: Registry,
        truth: GroundTruth,
        skew: Mapping[bytes, timedelta],
        days: int,
        db_path: Path,
    ) -> None:
        self.base = base
        self.world = world
        self.registry = registry
        self.truth = truth
        self.skew = skew  # terminal -> how far its clock is off
        self.days = days
        self.db_path = db_path
        self.port = FaultyPort(world, truth)
        self.violations: list[str] = []
        self.transactions = 0
        self.cleared = 0  # records cleared, as of the last night
        self.held = 0  # records held for review, as of the last night
        self._day: FaultyDay | None = None
        self._counters = np.zeros((2, len(world.population)), np.int64)
        self._serials: dict[bytes, int] = {}
        self._listed_in_db: set[bytes] = set()

    def now_s(self) -> float:
        """Simulated seconds into the day under way (what the bank outage windows are in)."""
        return self._day.env.now if self._day is not None else 0.0

    def run(self) -> None:
        for d in range(self.days):
            self.run_day(d)
        self.close()

    def run_day(self, d: int) -> None:
        w = self.world
        scenario = day_scenario(self.base, d)
        if d:
            w.scenario = scenario
            columns = draw_columns(scenario, w.city.district_share)
            w.demand = [for_shard(t, 0, 1) for t in draw_demand(scenario, w.city, columns)]
            pop = w.population
            pop.recharging[:] = False  # a trip cut off at midnight is abandoned
            pop.last_board_s[:] = np.nan
        self.port.day_start = w.day_start
        self.port.day_offset_s = d * DAY_S
        day = FaultyDay(w, self.port, self.truth, d, self._day)
        self._day = day
        night = day.run()
        self.transactions += int(day.metrics.tx_count.sum())
        checks, _closing = check_day(w, day.sent, day.sent_records, night)
        self._fail(d, [Check(c.name, c.ok, c.detail) for c in checks])
        self.night(d, (d + 1) * DAY_S)

    def close(self) -> None:
        """The terminals upload what they still hold, every upload arrives, a reviewer releases
        what may be paid, the last settlement runs: every committed record is settled once."""
        assert self._day is not None
        for t in self.world.terminals():
            self._day._send(t, measured=False)
        end = self.days * DAY_S
        for u in self.port.transit:
            u.at_s = min(u.at_s, end + DAY_S - 1)
        self.night(self.days, (self.days + 1) * DAY_S, review=True)

    # -- the night -----------------------------------------------------------------------------

    def night(self, d: int, until_s: float, review: bool = False) -> None:
        """Ingest what has arrived by `until_s`, settle, check the books (the last night also
        releases what the review confirms, and settles one day further: the period's end)."""
        business = self.base.run.day + timedelta(days=d)
        due = sorted((u for u in self.port.transit if u.at_s < until_s), key=lambda u: (u.at_s, u.order))
        self.port.transit = [u for u in self.port.transit if u.at_s >= until_s]
        office = self._ingest(d, due, business)
        # A night that raises still gives back the writer lock: the replay command the report
        # prints must find the database free, not held by a dead night.
        try:
            if review:
                self._review(office, business)
            settle_until = business + timedelta(days=2 if review else 1)
            report = office.settlement.run(settle_until)
            positions_fen = [line.position_fen for line in report.lines] + [report.reserve_position_fen]
            self._fail(d, [settlement_nets(positions_fen)])
            self._check_books(d, office, settle_until, final=review)
        finally:
            office.close()

    def _review(self, office: BackOffice, business: date) -> None:
        """The reviewer reads the card's log (the ground truth): a record a card made is
        released, one no card made (a dishonest terminal's) is rejected with the reason."""
        db = office.ledger.db
        for qid, reason, _detail in office.clearing.held():
            if Reason(reason) not in RELEASABLE or Reason(reason) is Reason.HOTLISTED:
                continue
            raw = db.execute("SELECT raw FROM quarantine WHERE id = ?", (qid,)).fetchone()[0]
            record = decode_record(bytes(raw), f"quarantine {qid}", check_crc=False)
            if is_genuine(record, self.truth.genuine):
                office.clearing.release(qid, f"verify review: {reason} confirmed by the card log", business)
            else:
                office.clearing.reject(qid, f"verify review: {reason}: the card log has no such transaction")

    def _open(self) -> BackOffice:
        office = BackOffice.open(self.db_path, self.registry, self.world.issuer_keys)
        # The cards' balances from before the period: booked once, at the first night's opening.
        book_opening_float(office.ledger, self.world.scenario.run.day, self.world.opening_float_fen())
        for asn, at in sorted(self.truth.hotlisted.items()):
            if asn not in self._listed_in_db:
                office.hotlist.add(asn, at, at)
                self._listed_in_db.add(asn)
        return office

    def _ingest(self, d: int, due: list[Transit], business: date) -> BackOffice:
        """The night's uploads into a clearing house that starts from its database, surviving
        the night's crash; returns the clearing house that finished the ingest."""
        office = self._open()
        faults = self.truth.faults
        rng = stream(self.truth.seed, "verify/clearing-crash", d)
        first_crash = 0
        if "clearing-kill9" in faults and d == 0 and due:
            # Once a seed (a process start costs a second): the night's ingest runs in a child
            # process that is SIGKILLed mid-way; then this process restarts the ingest.
            office.close()
            target = int(rng.integers(len(due)))
            self._kill9(due, business, target)
            # Whether the child committed its target before the kill landed is a race: the
            # interrupt below goes to a later file, which only this process ingests.
            first_crash = target + 1
            office = self._open()
            integrity = office.ledger.db.execute("PRAGMA integrity_check").fetchone()[0]
            self._fail(d, [database_intact(str(integrity))])
        if d == 0 and due:
            self._operator_faults(office, due, business)
        crash_at = full_at = -1
        if "clearing-crash" in faults and len(due) > first_crash:
            crash_at = first_crash + int(rng.integers(len(due) - first_crash))
        if "clearing-disk-full" in faults and due:
            full_at = int(rng.integers(len(due)))
        i = 0
        while i < len(due):
            u = due[i]
            if i == crash_at:
                crash_at = -1
                _arm_kill(office.ledger.db, int(rng.integers(1, 8)))
            if i == full_at:
                full_at = -1
                _fill_disk(office.ledger.db)
            try:
                office.clearing.ingest_file(u.raw, u.name, business)
            except sqlite3.OperationalError as exc:
                if "full" in str(exc):
                    # The batch rolled back whole; space is freed and the same file goes again.
                    self.truth.injected["clearing-disk-full"] += 1
                    office.ledger.db.execute(f"PRAGMA max_page_count={_PAGES_MAX}")
                    continue
                if "interrupted" not in str(exc):
                    raise
                # Killed mid-ingest: the process is gone; a new one opens the database and
                # ingests the inbox again from this file (earlier ones are no-ops by digest).
                self.truth.injected["clearing-crash"] += 1
                office.close()
                office = self._open()
                continue
            office.ledger.db.set_progress_handler(None, 0)
            i += 1
        # A disk that filled late in the night and was never written past: freed before the books.
        office.ledger.db.execute(f"PRAGMA max_page_count={_PAGES_MAX}")
        return office

    def _operator_faults(self, office: BackOffice, due: list[Transit], business: date) -> None:
        """Once a seed, before the first night's ingest: a second clearing process, refused
        while this one holds the database; and a wrong key file, refused before it posts."""
        faults, db = self.truth.faults, office.ledger.db
        before = db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        if "clearing-concurrent" in faults:
            raws = [u.raw for u in due]
            problem = second_writer_refused(
                self.db_path, self.registry, self.world.issuer_keys, raws, business
            )
            self.truth.injected["clearing-concurrent"] += 1
            if problem:
                self.violations.append(problem)
        if "clearing-sigkill" in faults and due:
            rng = stream(self.truth.seed, "verify/clearing-sigkill", 0)
            fractions = [float(rng.uniform(0.02, 0.98)) for _ in range(SIGKILLS_PER_SEED)]
            problem = killed_runs_match(
                self.db_path, self.registry, self.world.issuer_keys, [u.raw for u in due], business, fractions
            )
            self.truth.injected["clearing-sigkill"] += len(fractions)
            if problem:
                self.violations.append(problem)
        if "clearing-bad-keys" in faults:
            wrong = generate_issuer_keys(seed=self.truth.seed + 1, issuer_id=self.world.issuer_keys.issuer_id)
            verifier = TacVerifier(IssuerKeyStore(wrong, frozenset({KeyUsage.TAC})))
            heads = [(u.name, u.raw[:SAMPLE_HEAD_BYTES]) for u in due]
            try:
                sampled = check_night_keys(verifier, heads, "wrong-keys.toml")
            except ClearingError:
                self.truth.injected["clearing-bad-keys"] += 1
            else:
                if sampled >= BAD_KEYS_SAMPLES_SURE:
                    self.violations.append(f"a wrong key file verified {sampled} sampled records unnoticed")
        after = db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
        if after != before:
            self.violations.append(f"a refused clearing run wrote {after - before} batches")

    def _kill9(self, due: list[Transit], business: date, target: int) -> None:
        raws = [u.raw for u in due]
        end = ingest_killed_at(self.db_path, self.registry, self.world.issuer_keys, raws, business, target)
        if end.killed:
            self.truth.injected["clearing-kill9"] += 1
        if end.problem:
            self.violations.append(end.problem)

    def _fail(self, d: int, checks: list[Check]) -> None:
        self.violations += violations(d, checks)

    # -- the books against the ground truth ----------------------------------------------------

    def _check_books(self, d: int, office: BackOffice, settled_through: date, final: bool) -> None:
        """The books after night `d` against the ground truth (the period's close checks more:
        `final`), in the order the seed's report lists them."""
        db = office.ledger.db
        w = self.world
        genuine = self.truth.genuine
        # Bank captures are checked below, with the loads held for review counted.
        sums = reconcile(office.ledger, self.registry, None, None).checks
        checks = reconciliation((c.name, c.left_fen, c.right_fen) for c in sums)
        rows: list[ClearedRow] = [(bytes(k), a, bytes(t), s) for k, a, t, s in db.execute(_CLEARED)]
        cleared = {k for k, *_ in rows}
        checks += cleared_once(rows, genuine)
        held = held_for_review(
            ((bytes(raw), reason) for raw, reason in db.execute(_HELD)), self._participant_of, genuine
        )
        undecided = ((bytes(raw), reason) for raw, reason in db.execute(_UNDECIDED_RECORDS))
        checks.append(holds_explained(undecided, genuine, self.truth.dishonest))
        banks = self._banks()
        if final:
            checks += banks_against_books(banks, _cleared_loads(db, banks), held.loads_fen)
        in_transit = {k for u in self.port.transit for k in u.keys}
        checks += records_accounted(genuine, cleared, held.keys, in_transit)
        cards = [CardState.from_image(i) for i in w.population.images]
        checks.append(
            money_conserved(
                cards_fen=sum(s.ep_balance_fen for s in cards),
                float_fen=-office.ledger.balance("float"),
                held_fen=held.net_fen,
                terminals_fen=sum(
                    r.signed_amount_fen for t in w.terminals() for r in t.app.journal.records()
                ),
                transit_fen=in_transit_fen(genuine, cleared, held.keys, in_transit),
            )
        )
        checks += bank_accounts(banks)
        checks.append(settled_once(*_unsettled(db, settled_through)))
        checks.append(no_clones([c.line() for c in find_clones(db)]))
        checks += self._never_back(cards)
        checks.append(hotlist_honoured(genuine, self.truth.hotlist_at, self.skew))
        if final:
            left = sum(len(t.app.journal) for t in w.terminals())
            checks.append(
                period_closed(genuine, cleared, held.keys, self.truth.hotlisted.keys(), in_transit, left)
            )
        self.cleared, self.held = len(cleared), len(held.keys)
        self._fail(d, checks)

    def _participant_of(self, terminal_id: bytes) -> str:
        owner = self.registry.owner(terminal_id)
        return owner.participant_id if owner else "?"

    def _banks(self) -> list[BankBooks]:
        return [
            BankBooks(
                name=b.name,
                participant=load_participant(b.name),
                opened_fen=len(b.balances_fen) * ACCOUNT_OPENING_FEN,
                balances_fen=sum(b.balances_fen.values()),
                captured_fen=b.captured_fen,
            )
            for b in self.world.funding.banks
        ]

    def _never_back(self, cards: list[CardState]) -> list[Check]:
        """Today's counters and serials against the last night's, which they then replace."""
        counters: npt.NDArray[np.int64] = np.array(
            [(s.ep_offline_counter, s.ep_online_counter) for s in cards], np.int64
        ).T.reshape(2, -1)
        serials = {
            t.terminal_id: _psam_serial(t)
            for t in self.world.fleet.all()
            if t.kind not in (Kind.KIOSK, Kind.WINDOW)
        }
        checks = never_back(self._counters, counters, self._serials, serials)
        self._counters, self._serials = counters, serials
        return checks


def _psam_serial(t: Terminal) -> int:
    """The serial of the PSAM chip under a purchase terminal's fault wrappers."""
    chip: Any = cast(Any, t.app).psam
    while not hasattr(chip, "chip"):
        chip = chip.inner
    return int(chip.chip.serial)


def _cleared_loads(db: sqlite3.Connection, banks: list[BankBooks]) -> dict[str, int]:
    return {b.participant: int(db.execute(_CLEARED_LOADS, (b.participant,)).fetchone()[0]) for b in banks}


def _unsettled(db: sqlite3.Connection, settled_through: date) -> tuple[int, int]:
    """Cleared records dated before `settled_through` and not settled; settlements of no record."""
    through = settled_through.year * 10_000 + settled_through.month * 100 + settled_through.day - 1
    return int(db.execute(_UNSETTLED, (through,)).fetchone()[0]), int(db.execute(_ORPHANS).fetchone()[0])


_PAGES_MAX = 1_073_741_823  # SQLite's default max_page_count
# A wrong key file over this many sampled records must be noticed: the campaign's city has one
# issuer and at most two algorithms, so one group holds at least ABNORMAL_SAMPLES_MIN of them.
BAD_KEYS_SAMPLES_SURE = 4 * ABNORMAL_SAMPLES_MIN


def _fill_disk(db: sqlite3.Connection) -> None:
    """The disk is full from now on: SQLite may use no page beyond those it has (SQLITE_FULL at
    the first write that needs one; small batches may fit the pages there are until then)."""
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    db.execute(f"PRAGMA max_page_count={pages}")


def _arm_kill(db: sqlite3.Connection, after: int) -> None:
    """Interrupt SQLite after `after` progress ticks: the ingest dies mid-statement."""
    ticks = [0]

    def handler() -> int:
        ticks[0] += 1
        return 1 if ticks[0] == after else 0

    db.set_progress_handler(handler, CLEARING_CRASH_OPS)
