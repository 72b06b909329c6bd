"""`cardtwin verify`'s bank card fault classes: each fires in every seed, the books stay right,
the same seed gives the same result, and a broken recovery or a lost reversal is caught."""

from __future__ import annotations

import dataclasses

import pytest

from model.bankcard import Acquirer, EcLoadTerminal
from sim.verify import FAULTS, parse_faults
from sim.verify.bank_faults import BankRun, with_bank_faults
from sim.verify.bank_names import BANK_FAULTS
from sim.verify.report import SeedResult


def empty(seed: int) -> SeedResult:
    return SeedResult(seed=seed, days=1, transactions=0, records=0, faults={}, violations=[], wall_s=0.0)


def test_every_bank_fault_fires_and_the_books_stay_right() -> None:
    for seed in (1, 2):
        result = with_bank_faults(empty(seed), frozenset(BANK_FAULTS))
        assert result.violations == []
        assert set(result.faults) == set(BANK_FAULTS)
        assert all(n > 0 for n in result.faults.values()), result.faults
        assert result.transactions == 80 and result.records == 0  # the e-purse's records are untouched
    again = with_bank_faults(empty(2), frozenset(BANK_FAULTS))
    assert dataclasses.replace(again, wall_s=0.0) == dataclasses.replace(result, wall_s=0.0)


def test_the_classes_are_named_like_the_others() -> None:
    assert set(BANK_FAULTS) <= set(FAULTS) and parse_faults("all") >= set(BANK_FAULTS)
    assert parse_faults("bank-reversal,card-tear") == {"bank-reversal", "card-tear"}
    assert with_bank_faults(empty(1), frozenset({"card-tear"})) == empty(1)  # no bank class: no bank day


def test_a_load_terminal_that_forgets_its_torn_loads_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EcLoadTerminal, "recover", lambda self, card: None)
    result = with_bank_faults(empty(3), frozenset({"bank-ec-load-tear"}))
    assert result.faults["bank-ec-load-tear"] > 0
    assert any("holds or dues left" in v or "unresolved" in v for v in result.violations), result.violations


def test_an_acquirer_that_drops_its_queued_reversals_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    dropped: list[str] = []

    def dropping(self: Acquirer) -> int:
        dropped.extend(what for what, _, _ in self.advices)
        self.advices.clear()  # "sent": lost on the way
        return 0

    monkeypatch.setattr(Acquirer, "flush_advices", dropping)
    for seed in range(1, 60):  # the first seed where a lost second AC met an outage
        dropped.clear()
        run = BankRun(seed, frozenset({"bank-network-outage", "bank-reversal"}))
        violations = run.run()
        if "reverse" in dropped:
            assert any("holds or dues left" in v for v in violations), violations
            return
        assert violations == []  # a dropped confirm is made good by the clearing record
    pytest.fail("no seed queued a reversal: the outage and the lost second AC never met")
