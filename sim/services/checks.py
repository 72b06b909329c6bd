"""The services' invariants at the close of the day (money conserved on the services ledger).

- the ledger balances (every posting sums to zero);
- every visit: fund + medical account + own payment = cost, and own = from account + by e-purse
  + in cash;
- the e-purse own payments are exactly the purchase records the cashier terminals signed for
  them (each at a cashier, each taking its amount off the card's balance): those records are
  then the purse day's, conserved by its invariants and cleared at night;
- the fund's tables agree with its accounts: settled insured = fund + medical-account shares;
  paid claims = what left `medfund`; owed to institutions = settled - paid; the pool and the
  personal accounts are their openings less what the visits took (the accounts no visit
  touched are outside the ledger, at their openings: `backend.Unposted`);
- the citizen accounts: balances = openings + batches - payments (to merchants and
  institutions) - expired vouchers (the openings no payment touched outside the ledger); the
  reserve holds every credit; payables hold every payment; a citizen's balance always covers
  their unexpired vouchers;
- loans: made = returned + still out.
"""

from __future__ import annotations

from collections.abc import Sequence

from model.backoffice.terms import day_int
from model.errors import CardTwinError
from model.records import TransactionRecord
from sim.city import Terminal
from sim.services.backend import Backend
from sim.services.tally import ServiceCheck, ServicesTally


class ServicesInvariantError(CardTwinError):
    """The services' money or records do not add up at the close."""


def _sum(backend: Backend, prefix: str) -> int:
    return sum(backend.ledger.balances(prefix).values())


def _medical(b: Backend, t: ServicesTally) -> list[ServiceCheck]:
    m, o = t.money_fen.get, b.openings
    fund, account = m("medical_fund_fen", 0), m("medical_account_fen", 0)
    own = m("medical_own_account_fen", 0) + m("medical_own_purse_fen", 0) + m("medical_own_cash_fen", 0)
    totals = b.fund.totals()
    paid = m("claims_paid_fen", 0)
    medfund = b.ledger.balance("medfund")
    # The personal accounts no visit touched are not in the ledger: still their openings.
    unposted = b.medical.unposted_fen()
    return [
        ServiceCheck(
            "visits: fund + medical account + own (account + e-purse + cash) = cost",
            fund + account + own == m("medical_cost_fen", 0),
            f"{fund} + {account} + {own} vs {m('medical_cost_fen', 0)}",
        ),
        ServiceCheck(
            "fund: insured part settled = fund + medical-account shares; claims paid = the fund's own record",
            totals["insured_fen"] == fund + account and totals["paid_fen"] == paid,
            f"settled {totals['insured_fen']}, shares {fund + account}; paid {totals['paid_fen']} vs {paid}",
        ),
        ServiceCheck(
            "fund's bank = contributions - claims paid; owed to institutions = settled - paid",
            medfund == o.pool_fen + o.medical_accounts_fen - unposted - paid
            and -_sum(b, "meddue:") == fund + account - paid,
            f"medfund {medfund}, owed {-_sum(b, 'meddue:')}",
        ),
        ServiceCheck(
            "pool and personal accounts = openings - what the visits took",
            -b.ledger.balance("medpool") == o.pool_fen - fund
            and -_sum(b, "medacct:") == o.medical_accounts_fen - unposted - account,
            f"pool {-b.ledger.balance('medpool')}, accounts {-_sum(b, 'medacct:')}",
        ),
    ]


def _accounts(b: Backend, t: ServicesTally) -> list[ServiceCheck]:
    m, o = t.money_fen.get, b.openings
    # The openings no payment touched are not in the ledger: still their openings (and not a
    # payer's batch: the day's batches are the vouchers and today's allowances).
    unposted = b.allowance.unposted_fen()
    batches = o.vouchers_fen + m("account_batch_fen", 0)
    credits = o.accounts_fen - unposted + batches
    spent = m("account_payments_fen", 0) + m("medical_own_account_fen", 0)
    expired = m("vouchers_expired_fen", 0)
    balances = -_sum(b, "account:")
    held = b.ledger.db.execute(
        "SELECT citizen, SUM(remaining_fen) FROM vouchers WHERE remaining_fen > 0 GROUP BY citizen"
    ).fetchall()
    uncovered = [c for c, fen in held if b.book.accounts.balance_fen(c) < fen]
    expired_left = b.ledger.db.execute(
        "SELECT COUNT(*) FROM vouchers WHERE remaining_fen > 0 AND expires <= ?", (day_int(b.day),)
    ).fetchone()[0]
    return [
        ServiceCheck(
            "accounts: balances = openings + batches - payments - expired vouchers",
            balances == credits - spent - expired and b.book.credited_fen() == batches,
            f"{balances} vs {credits} - {spent} - {expired}",
        ),
        ServiceCheck(
            "reserve = every credit; payables = every payment; paybacks = expired vouchers",
            b.ledger.balance("reserve") == credits
            and -_sum(b, "payable:") == spent
            and -_sum(b, "payback:") == expired,
            f"reserve {b.ledger.balance('reserve')}, payable {-_sum(b, 'payable:')}, "
            f"payback {-_sum(b, 'payback:')}",
        ),
        ServiceCheck(
            "no voucher left unswept past its day; every balance covers its vouchers",
            expired_left == 0 and not uncovered,
            f"{expired_left} expired vouchers unswept, {len(uncovered)} balances short of their vouchers",
        ),
    ]


def _purse(
    t: ServicesTally, records: Sequence[TransactionRecord], cashiers: Sequence[Terminal]
) -> ServiceCheck:
    at = {c.terminal_id for c in cashiers}
    taken = sum(r.amount_fen for r in records)
    off_cards = sum(r.balance_before_fen - r.balance_after_fen for r in records)
    elsewhere = sum(1 for r in records if r.terminal_id not in at or r.tx_type.is_load)
    paid, count = t.money_fen.get("medical_own_purse_fen", 0), t.counts.get("medical_own_purse_payments", 0)
    return ServiceCheck(
        "own payments by e-purse = the cashiers' purchase records = what left the cards",
        taken == paid == off_cards and len(records) == count and elsewhere == 0,
        f"records {len(records)} ({taken} fen, {off_cards} off the cards, {elsewhere} not a cashier's "
        f"purchase) vs {count} payments ({paid} fen)",
    )


def check_services(
    b: Backend,
    t: ServicesTally,
    purse_records: Sequence[TransactionRecord] = (),
    cashiers: Sequence[Terminal] = (),
) -> list[ServiceCheck]:
    """Every services invariant as a named check; nothing raises here."""
    try:
        b.ledger.check()
        ledger_ok, detail = True, "every posting balances"
    except CardTwinError as exc:
        ledger_ok, detail = False, str(exc)
    loans = [
        ServiceCheck(
            f"{desk.name}: loans made = returned + out",
            desk.made == desk.returned + sum(len(v) for v in desk.open_loans.values()),
            f"{desk.made} = {desk.returned} + {sum(len(v) for v in desk.open_loans.values())}",
        )
        for desk in (b.bikes, b.library)
    ]
    return [
        ServiceCheck("services ledger balances", ledger_ok, detail),
        *_medical(b, t),
        _purse(t, purse_records, cashiers),
        *_accounts(b, t),
        *loans,
    ]


def enforce_services(checks: list[ServiceCheck], where: str) -> None:
    failed = [c for c in checks if not c.ok]
    if failed:
        raise ServicesInvariantError(
            f"{where}: services invariant violated: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
