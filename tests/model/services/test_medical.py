"""Medical-insurance settlement: the split, the fund's postings, and claims under attack."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.backoffice import Ledger, open_database
from model.services import Claim, ClaimError, MedicalError, MedicalFund, sign_claim, split_visit

DAY = date(2009, 3, 2)
MASTER = bytes(range(32))


@pytest.fixture()
def fund() -> MedicalFund:
    f = MedicalFund(Ledger(open_database(":memory:")), MASTER, 7000)
    f.add_institution("hosp-1")
    f.add_institution("hosp-2")
    f.contribute(DAY, 1_000_000, [("c1", 5_000), ("c2", 50_000)])
    return f


def _balances(f: MedicalFund) -> dict[str, int]:
    return f.ledger.balances()


def test_split_takes_the_personal_account_first_then_the_fund_share() -> None:
    assert split_visit(15_000, 5_000, 7000) == split_visit(15_000, 5_000, 7000)
    s = split_visit(15_000, 5_000, 7000)
    assert (s.medical_account_fen, s.fund_fen, s.own_fen) == (5_000, 7_000, 3_000)
    assert split_visit(15_000, 50_000, 7000).own_fen == 0  # the account covers it all
    odd = split_visit(1_001, 0, 7000)
    assert (odd.fund_fen, odd.own_fen) == (700, 301)  # the fund's share rounds down, the citizen pays the fen


@given(st.integers(1, 10_000_000), st.integers(-100, 10_000_000), st.integers(0, 10_000))
def test_split_always_adds_up_to_the_cost(cost: int, account: int, bp: int) -> None:
    s = split_visit(cost, account, bp)
    assert s.fund_fen + s.medical_account_fen + s.own_fen == cost
    assert min(s.fund_fen, s.medical_account_fen, s.own_fen) >= 0


@pytest.mark.parametrize(("cost", "bp"), [(0, 7000), (-5, 7000), (100, 10_001), (100, -1)])
def test_bad_amounts_and_shares_are_refused(cost: int, bp: int) -> None:
    with pytest.raises(MedicalError):
        split_visit(cost, 0, bp)


def test_a_visit_posts_the_insured_part_owed_to_the_institution(fund: MedicalFund) -> None:
    s = fund.settle_visit("hosp-1", 1, "c1", 15_000, DAY)
    assert fund.medical_account_fen("c1") == 0
    assert fund.pool_fen() == 1_000_000 - 7_000
    assert fund.ledger.balance("meddue:hosp-1") == -12_000 == -s.insured_fen
    fund.ledger.check()


def test_a_visit_settled_twice_or_at_an_unknown_institution_is_refused(fund: MedicalFund) -> None:
    fund.settle_visit("hosp-1", 1, "c1", 15_000, DAY)
    before = _balances(fund)
    with pytest.raises(MedicalError, match="already settled"):
        fund.settle_visit("hosp-1", 1, "c1", 15_000, DAY)
    with pytest.raises(MedicalError, match="not a registered institution"):
        fund.settle_visit("hosp-9", 2, "c1", 15_000, DAY)
    assert _balances(fund) == before


def test_a_genuine_claim_is_paid_once_and_a_replay_is_refused(fund: MedicalFund) -> None:
    fund.settle_visit("hosp-1", 1, "c1", 15_000, DAY)
    fund.settle_visit("hosp-1", 2, "c2", 8_000, DAY)
    key = fund.add_institution("hosp-1")
    claim = sign_claim(key, "hosp-1", 7, DAY, fund.unclaimed("hosp-1"))
    assert fund.pay_claim(claim) == 12_000 + 8_000
    assert fund.ledger.balance("meddue:hosp-1") == 0
    before = _balances(fund)
    with pytest.raises(ClaimError, match="already paid"):
        fund.pay_claim(claim)
    again = sign_claim(key, "hosp-1", 8, DAY, [(1, 12_000)])  # a new claim id, visits already paid
    with pytest.raises(ClaimError, match="already paid by claim 7"):
        fund.pay_claim(again)
    assert _balances(fund) == before
    assert fund.totals() == {"insured_fen": 20_000, "visits": 2, "paid_fen": 20_000, "claims": 1}


def test_forged_claims_are_refused_and_post_nothing(fund: MedicalFund) -> None:
    fund.settle_visit("hosp-1", 1, "c1", 15_000, DAY)
    key1, key2 = fund.add_institution("hosp-1"), fund.add_institution("hosp-2")
    good = sign_claim(key1, "hosp-1", 1, DAY, [(1, 12_000)])
    before = _balances(fund)
    inflated = Claim("hosp-1", 1, DAY, ((1, 13_000),), good.mac)  # amount raised, MAC kept
    with pytest.raises(ClaimError, match="MAC does not verify"):
        fund.pay_claim(inflated)
    with pytest.raises(ClaimError, match="MAC does not verify"):
        fund.pay_claim(sign_claim(key2, "hosp-1", 1, DAY, [(1, 12_000)]))  # another institution's key
    with pytest.raises(ClaimError, match="MAC does not verify"):
        fund.pay_claim(Claim("hosp-1", 1, DAY, ((1, 12_000),), good.mac[:-1]))
    honest_but_wrong = sign_claim(key1, "hosp-1", 2, DAY, [(1, 13_000)])  # signed, but asks more
    with pytest.raises(ClaimError, match="the fund settled 12000"):
        fund.pay_claim(honest_but_wrong)
    with pytest.raises(ClaimError, match="never settled"):
        fund.pay_claim(sign_claim(key1, "hosp-1", 3, DAY, [(99, 100)]))
    with pytest.raises(ClaimError, match="never settled"):
        fund.pay_claim(sign_claim(key2, "hosp-2", 4, DAY, [(1, 12_000)]))  # hosp-1's visit
    with pytest.raises(ClaimError, match="listed twice"):
        fund.pay_claim(sign_claim(key1, "hosp-1", 5, DAY, [(1, 6_000), (1, 6_000)]))
    assert _balances(fund) == before
    assert fund.pay_claim(good) == 12_000  # the genuine one still pays


def test_the_pool_cannot_be_overdrawn(fund: MedicalFund) -> None:
    before = _balances(fund)
    with pytest.raises(MedicalError, match="pool holds"):
        fund.settle_visit("hosp-1", 1, "c9", 5_000_000, DAY)
    assert _balances(fund) == before


def test_bad_ids_and_keys_are_refused() -> None:
    with pytest.raises(MedicalError, match="master key"):
        MedicalFund(Ledger(open_database(":memory:")), b"short", 7000)
    f = MedicalFund(Ledger(open_database(":memory:")), MASTER, 7000)
    with pytest.raises(MedicalError, match="institution"):
        f.add_institution("a:b")
    with pytest.raises(MedicalError, match="citizen"):
        f.contribute(DAY, 0, [("", 100)])


def test_a_city_wide_pool_contribution_is_taken_and_an_absurd_one_refused(fund: MedicalFund) -> None:
    # A full-scale day's pool contribution (~CNY 18M) is far above one visit's limit.
    from model.services.medical import CONTRIBUTION_FEN_MAX, VISIT_FEN_MAX

    fund.contribute(date(2009, 3, 1), 1_823_314_848, [])
    assert fund.pool_fen() >= 1_823_314_848 > VISIT_FEN_MAX
    with pytest.raises(MedicalError, match=r"pool contribution: \d+ fen must be 1\.\."):
        fund.contribute(date(2009, 3, 1), CONTRIBUTION_FEN_MAX + 1, [])


def test_a_city_of_personal_accounts_is_credited_in_several_balanced_postings_at_once(
    fund: MedicalFund,
) -> None:
    from model.services.medical import CONTRIBUTION_LINES_PER_POSTING

    n = 2 * CONTRIBUTION_LINES_PER_POSTING + 7  # a full-scale day credits ~700,000 accounts
    accounts = [(f"m{i}", 100 + i % 50) for i in range(n)]
    pool_before, fund_before = fund.pool_fen(), -fund.ledger.balance("medfund")
    memo = "SELECT COUNT(*) FROM postings WHERE memo = 'medical contributions'"
    postings_before = fund.ledger.db.execute(memo).fetchone()[0]
    fund.contribute(date(2009, 3, 1), 5_000, accounts)
    assert fund.pool_fen() == pool_before + 5_000
    assert fund.medical_account_fen("m0") == 100
    assert fund.medical_account_fen(f"m{n - 1}") == 100 + (n - 1) % 50
    assert fund.ledger.db.execute(memo).fetchone()[0] == postings_before + 3
    assert -fund.ledger.balance("medfund") == fund_before - (5_000 + sum(fen for _, fen in accounts))
    with pytest.raises(MedicalError, match="account of m1: 0 fen"):  # one bad line: nothing posted
        fund.contribute(date(2009, 3, 2), 5_000, [("m0", 1), ("m1", 0)])
    assert fund.pool_fen() == pool_before + 5_000
