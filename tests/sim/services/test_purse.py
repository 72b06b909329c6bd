"""The own payment of a medical visit by e-purse: a real purchase at the institution's cashier
terminal (card OS, PSAM, terminal application, journal, upload, the night's clearing), the fund's
and account's parts on the services ledger; money conserved across them."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import pytest

from devices.card_state import CardState
from model.backoffice import Sector
from model.records import NO_PSAM
from model.records.batch import decode_record
from scenarios.schema import Scenario, load
from sim.city import Kind, Tear, build_world, city_tag, registry_entries
from sim.city.world import participants
from sim.day import RunResult, run_day
from sim.day.night import RecordInbox
from sim.day.twin import CityDay
from sim.services import check_services
from sim.services.backend import institution_id

SMALL = load().replace(sample=0.002)


def _with_medical(s: Scenario, **changes: object) -> Scenario:
    assert s.services is not None
    medical = dataclasses.replace(s.services.medical, **changes)
    return dataclasses.replace(s, services=dataclasses.replace(s.services, medical=medical))


@pytest.fixture(scope="module")
def cleared(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, sqlite3.Connection]:
    db = tmp_path_factory.mktemp("purse") / "clearing.sqlite"
    return run_day(SMALL, clearing_db=db), sqlite3.connect(db)


def test_each_institution_has_a_cashier_terminal_with_its_psam_in_the_registry() -> None:
    world = build_world(SMALL)
    cashiers = world.fleet.by_kind[Kind.MEDICAL]
    assert SMALL.services is not None and len(cashiers) == SMALL.services.medical.institutions == 175
    entries = {e.terminal_id: e for e in registry_entries(world)}
    for number, t in enumerate(cashiers):
        e = entries[t.terminal_id]
        assert (t.place, e.participant_id, e.psam_id) == (number, institution_id(number), t.terminal_id)
        assert e.psam_id != NO_PSAM and t.kind.online and not t.kind.loads
    by_id = {p.participant_id: p for p in participants(SMALL)}
    assert by_id["hosp-174"].sector is Sector.UTILITIES and "hosp-175" not in by_id
    # Without [services] there are no cashiers and no institutions to clear.
    bare = dataclasses.replace(SMALL, services=None)
    assert build_world(bare).fleet.by_kind[Kind.MEDICAL] == []
    assert not [p for p in participants(bare) if p.participant_id.startswith("hosp-")]


def test_participants_are_named_by_the_issuers_city_code() -> None:
    assert city_tag() == ("hz", "Hangzhou")
    assert {"bus-hz", "metro-hz", "taxi-hz", "window-hz"} <= {p.participant_id for p in participants(SMALL)}
    with pytest.raises(ValueError, match="city code 3401 has no participant names"):
        city_tag(bytes.fromhex("3401000000000001"))


def test_the_purse_pays_own_parts_and_the_clearing_house_pays_the_institutions(
    cleared: tuple[RunResult, sqlite3.Connection],
) -> None:
    run, db = cleared
    tally = run.services()
    assert tally is not None and run.settlement is not None
    purse_fen = tally.money_fen["medical_own_purse_fen"]
    payments = tally.counts["medical_own_purse_payments"]
    assert purse_fen > 0 and payments > 5
    m = tally.money_fen
    own = m["medical_own_purse_fen"] + m["medical_own_cash_fen"] + m.get("medical_own_account_fen", 0)
    assert m["medical_cost_fen"] == m["medical_fund_fen"] + m["medical_account_fen"] + own
    assert run.metrics.tx_count[Kind.MEDICAL - 1].sum() == payments
    assert run.metrics.tx_fen[Kind.MEDICAL - 1].sum() == purse_fen
    # Every cashier record reached the clearing house: settled to its institution, or held (a
    # counter gap left by the same card's bus record uploaded late, not yet released); none lost,
    # none paid to anyone else.
    hosp = [line for line in run.settlement.lines if line.participant.startswith("hosp-")]
    held = [
        decode_record(raw, "held", check_crc=False)
        for (raw,) in db.execute(
            "SELECT q.raw FROM quarantine q JOIN batches b ON b.id = q.batch_id "
            "WHERE substr(b.terminal_id, 3, 1) = ? AND q.idx >= 0 "
            "AND q.id NOT IN (SELECT quarantine_id FROM releases)",
            (bytes([Kind.MEDICAL]),),
        )
    ]
    assert sum(line.gross_fen for line in hosp) + sum(r.amount_fen for r in held) == purse_fen
    assert sum(line.purchase_count for line in hosp) + len(held) == payments
    cashier_rows = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT participant) FROM records WHERE substr(terminal_id, 3, 1) = ?",
        (bytes([Kind.MEDICAL]),),
    ).fetchone()
    assert cashier_rows[0] == sum(line.purchase_count for line in hosp)
    assert db.execute(
        "SELECT COUNT(*) FROM records WHERE substr(terminal_id, 3, 1) = ? AND participant NOT LIKE 'hosp-%'",
        (bytes([Kind.MEDICAL]),),
    ).fetchone() == (0,)
    assert all(line.position_fen == line.gross_fen - line.fee_fen and line.fee_fen > 0 for line in hosp)
    assert all(c.ok for c in tally.checks) and all(c.ok for s in run.shards for c in s.checks)


def test_the_purse_check_fails_when_a_record_is_missing() -> None:
    world = build_world(SMALL)
    day = CityDay(world, RecordInbox())
    day.run()
    services = day.services
    assert services is not None and len(services.purse_records) > 1
    tally = services.close()
    assert all(c.ok for c in tally.checks)
    short = check_services(services.b, tally, services.purse_records[1:], services.cashiers)
    (bad,) = [c for c in short if not c.ok]
    assert bad.name.startswith("own payments by e-purse")
    elsewhere = check_services(services.b, tally, services.purse_records, [])
    assert [c.ok for c in elsewhere].count(False) == 1


def test_no_purse_habit_means_no_cashier_taps_and_the_same_fund_split() -> None:
    none = run_day(_with_medical(SMALL, own_from_purse_share=0.0)).services()
    every = run_day(_with_medical(SMALL, own_from_purse_share=1.0)).services()
    assert none is not None and every is not None
    assert "medical_own_purse_fen" not in none.money_fen
    # How the citizen pays never changes what the fund and the medical accounts pay.
    for name in ("medical_cost_fen", "medical_fund_fen", "medical_account_fen", "claims_paid_fen"):
        assert none.money_fen[name] == every.money_fen[name], name
    own_none = none.money_fen["medical_own_cash_fen"]
    own_every = every.money_fen["medical_own_cash_fen"] + every.money_fen["medical_own_purse_fen"]
    assert own_none == own_every and every.money_fen["medical_own_purse_fen"] > own_none // 4
    # Those whose purse is short of the part pay it in cash (and are counted).
    assert every.counts["medical_own_purse_refused"] > 0 and "medical_own_purse_refused" not in none.counts


def test_a_cashier_tap_torn_after_the_terminal_journaled_its_proof_is_paid_by_purse() -> None:
    # Torn on its last presentation after the terminal had recovered the debit's proof: the card
    # paid, and the cashier must not take the part again in cash.
    world = build_world(SMALL)
    day = CityDay(world, RecordInbox())
    pop = world.population
    cashier = next(c for c in world.fleet.by_kind[Kind.MEDICAL] if not c.down_at(0.0))
    rows = [r for r in range(len(pop.images)) if CardState.from_image(pop.images[r]).ep_balance_fen >= 500]
    real_tap = day._tap

    def torn_at_the_end(row: int, tear: Tear, action: Any, topup: bool = True) -> None:
        real_tap(row, tear, action, topup)
        return None

    day._tap = torn_at_the_end  # type: ignore[method-assign, assignment]
    record = day._cashier(rows[0], cashier, 500)
    assert record is not None and (record.amount_fen, world.row_of_asn(record.asn)) == (500, rows[0])
    # Torn before anything was journaled: no proof that the card paid, so the part is cash.
    day._tap = lambda row, tear, action, topup=True: None  # type: ignore[method-assign, assignment]
    assert day._cashier(rows[1], cashier, 400) is None
