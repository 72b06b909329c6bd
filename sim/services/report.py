"""The services' results tables (for the day's results folder) and the summary's lines.

`services.csv`: every count and money figure of the day, sampled and scaled to the city by the
citizens' weight (the centre's queues are already at city scale). `services_refused.csv`: each
refusal by service and reason. `services_queues.csv`: the centre's queues (arrivals, served,
balked, waits) and the data-exchange platform's checks. `services_invariants.csv`: each
services invariant and whether it held in every shard.
"""

from __future__ import annotations

import numpy as np

from model.money import format_fen
from sim.services.tally import ServicesTally
from sim.table import Row, Table


def _wait(waits_s: list[float]) -> tuple[float, float]:
    if not waits_s:
        return 0.0, 0.0
    w = np.asarray(waits_s)
    return round(float(w.mean()), 3), round(float(np.percentile(w, 95)), 3)


def services_tables(t: ServicesTally, weight: float) -> dict[str, Table]:
    figures: list[Row] = [(k, "count", v, round(v * weight)) for k, v in sorted(t.counts.items())]
    figures += [(k, "fen", v, round(v * weight)) for k, v in sorted(t.money_fen.items())]
    # An attack drill counts the parties whose forged or replayed message was refused (once each,
    # whichever shard saw it): the fund's institutions, the payer's batches.
    figures += [(f"drill_{k}", "count", len(v), len(v)) for k, v in sorted(t.drills.items())]
    figures.append(("claims_institutions", "count", len(t.institutions_claimed), len(t.institutions_claimed)))
    refused = [(*k.split(":", 1), v) for k, v in sorted(t.refused.items())]
    queues: list[Row] = []
    if t.centre is not None:
        for kind, q in t.centre.queues.items():
            queues.append((kind, q.arrivals, q.served, q.balked, *_wait(q.waits_s)))
        c = t.centre
        queues.append(("exchange_check", c.checks_done, c.checks_done, 0, *_wait(c.check_waits_s)))
    names = dict.fromkeys(c.name for c in t.checks)
    invariants = [(n, int(all(c.ok for c in t.checks if c.name == n))) for n in names]
    return {
        "services": (["figure", "unit", "sampled", "scaled"], figures),
        "services_refused": (["service", "reason", "count"], refused),
        "services_queues": (["queue", "arrivals", "served", "balked", "wait_s_mean", "wait_s_p95"], queues),
        "services_invariants": (["check", "ok"], invariants),
    }


def summary_lines(t: ServicesTally, weight: float) -> list[str]:
    """The day's services in a few lines (scaled to the city; money in CNY)."""

    def n(name: str) -> int:
        return round(t.counts.get(name, 0) * weight)

    def cny(name: str) -> str:
        return format_fen(round(t.money_fen.get(name, 0) * weight))

    account_refused = sum(v for k, v in t.refused.items() if k.startswith("account:"))
    refused = sum(t.refused.values()) - account_refused
    # The purse lines above these are sampled; these are scaled to the city, so say which.
    lines = [
        f"services, city-wide (each sampled citizen weighs {weight:g}):",
        f"medical visits {n('medical_visits')} ({n('medical_visits_card')} settled by card): cost CNY "
        f"{cny('medical_cost_fen')} = fund {cny('medical_fund_fen')} + medical accounts "
        f"{cny('medical_account_fen')} + own {cny('medical_own_account_fen')} (citizen account) + "
        f"{cny('medical_own_purse_fen')} (e-purse, {n('medical_own_purse_payments')} taps at the cashiers) + "
        f"{cny('medical_own_cash_fen')} (cash); claims paid CNY {cny('claims_paid_fen')} to "
        f"{len(t.institutions_claimed)} institutions; drills refused: "
        f"{len(t.drills.get('claims_forged_refused', ()))} forged, "
        f"{len(t.drills.get('claims_replayed_refused', ()))} replayed",
        f"citizen account: {n('account_payments')} online payments CNY {cny('account_payments_fen')} "
        f"({round(account_refused * weight)} refused: balance short), "
        f"payer batch CNY {cny('account_batch_fen')} to {n('account_batch_credits')} accounts "
        f"(its replay refused: {len(t.drills.get('batch_replays_refused', ()))} batch), "
        f"vouchers expired CNY {cny('vouchers_expired_fen')}",
        f"identity: bike rentals {n('bike_rentals')} (not returned {n('bikes_not_returned')}), library loans "
        f"{n('library_loans')}, park entries {n('park_entries')}, elderly concessions "
        f"{n('elderly_concessions')}, pass activations {n('pass_activations')}, cards reported lost "
        f"{n('cards_reported_lost')}; refused {round(refused * weight)} (by reason in services_refused.csv)",
    ]
    if t.centre is not None:
        q = t.centre.queues
        windows = [w for k, s in q.items() if k != "call" for w in s.waits_s]
        served = sum(s.served for k, s in q.items() if k != "call")
        balked = sum(s.balked for k, s in q.items() if k != "call")
        mean, p95 = _wait(windows)
        call_mean, _ = _wait(q["call"].waits_s)
        lines.append(
            f"service centre: {served} served at the windows (wait mean {mean:.0f} s, p95 {p95:.0f} s, "
            f"{balked} left), 96225 {q['call'].served} calls (wait mean {call_mean:.0f} s); "
            f"issuance checks {t.centre.checks_done} over the data exchange"
        )
    ok = all(c.ok for c in t.checks)
    lines.append(
        f"services invariants {'hold' if ok else 'VIOLATED'} ({len(t.checks)} checks: money conserved "
        "across the medical fund, personal accounts, citizen accounts, the e-purse and the services ledger)"
    )
    return lines
