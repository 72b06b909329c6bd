"""The bank-card city's report: cards per bank, transactions by channel, fees per party and the
third-party acquirer's payback, each marked plan input or model prediction, predictions with
a Student-t 95% interval over the replications (`report.md`, `result.json`, written aside and
renamed into place by `sim.staged`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from statistics import mean, stdev
from typing import Any

from scipy import stats  # type: ignore[import-untyped]  # no stubs installed here: read back as float

from sim.bankcity.rollout import BankRolloutResult, payback, totals
from sim.staged import staged_folder

CHANNELS = ("bank-pos", "contactless", "convenience", "bills")
CHANNEL_NAMES = {
    "bank-pos": "bank POS",
    "contactless": "contactless",
    "convenience": "convenience terminals",
    "bills": "bills",
}


def interval(values: list[float]) -> tuple[float, float, float]:
    """(mean, low, high): a Student-t 95% interval of the mean over the replications, its low
    end at zero (every figure here is a count or an income that cannot be negative)."""
    m = mean(values)
    if len(values) < 2 or stdev(values) == 0:
        return m, m, m
    half = float(stats.t.ppf(0.975, len(values) - 1)) * stdev(values) / math.sqrt(len(values))
    return m, max(0.0, m - half), m + half


def _count(x: float) -> str:
    return f"{round(x):,}"


def _cny(x: float) -> str:
    return f"CNY {x / 100:,.2f}"


def _parties(r: BankRolloutResult) -> list[tuple[str, list[float]]]:
    per_rep = [totals(rows)[2] for rows in r.replications]
    names = sorted({p for fees in per_rep for p in fees})
    order = [p for p in names if p.startswith("issuer:")] + ["switch"]
    order += [p for p in names if p.startswith("acquirer:acq:")] + [
        f"acquirer:{r.acquirer}",
        f"partner:{r.partner}",
    ]
    return [(p, [float(f.get(p, 0)) for f in per_rep]) for p in order if p in names]


def summary(r: BankRolloutResult) -> dict[str, Any]:
    last = r.plans[-1]
    reps = r.replications
    out: dict[str, Any] = {
        "scenario": r.scenario,
        "source": r.source,
        "seed": r.seed,
        "span": [r.months[0], r.months[-1]],
    }
    out["cards_by_bank"] = {
        bank: {
            "cards": round(last.cardholders * share),
            "source": "prediction (adoption model) x input (card mix)",
        }
        for bank, share in r.card_share.items()
    }
    out["cardholders"] = {
        "value": last.cardholders,
        "month": last.month,
        "source": "prediction (the plan's adoption model)",
    }
    tx = {c: interval([float(totals(rows)[0].get(c, 0)) for rows in reps]) for c in CHANNELS}
    fen = {c: interval([float(totals(rows)[1].get(c, 0)) for rows in reps]) for c in CHANNELS}
    out["transactions_by_channel"] = {
        c: {
            "mean": tx[c][0],
            "low": tx[c][1],
            "high": tx[c][2],
            "fen_mean": fen[c][0],
            "source": "prediction",
        }
        for c in CHANNELS
    }
    out["fees_by_party_fen"] = {
        p: dict(zip(("mean", "low", "high"), interval(v), strict=True)) | {"source": "prediction"}
        for p, v in _parties(r)
    }
    paybacks = [payback(rows) for rows in reps]
    invest = sum(m.acquirer_investment_fen for m in reps[0])
    out["acquirer"] = {
        "name": r.acquirer,
        "terminals": {"value": reps[0][-1].terminals, "source": "plan input"},
        "investment_fen": {"value": invest, "source": "plan input (terminals x cost per terminal)"},
        "income_fen_last_month": dict(
            zip(
                ("mean", "low", "high"),
                interval([float(rows[-1].acquirer_income_fen) for rows in reps]),
                strict=True,
            )
        ),
        "payback": [{"month": m, "months_beyond_span": beyond} for m, beyond in paybacks],
        "payback_source": "prediction (one per replication)",
    }
    out["targets"] = [
        {"kpi": k, "due": d, "low": lo, "actual": a, "met": a >= lo} for k, d, lo, a in r.targets
    ]
    out["sample_days"] = {
        "days": len(r.days), "holders_each": r.holders_simulated,
        "transactions": sum(sum(d.tx_by_channel.values()) for d in r.days),
        "ec_offline": sum(d.ec_offline for d in r.days), "loads": sum(d.loads for d in r.days),
        "unloads": sum(d.unloads for d in r.days),
        "declined": sum(d.declined for d in r.days), "apdus": sum(d.apdus for d in r.days),
        "violations": sum(len(d.violations) for d in r.days),
    }  # fmt: skip
    return out


def _range(f: dict[str, float], show: Callable[[float], str]) -> str:
    return f"{show(f['mean'])} [{show(f['low'])}, {show(f['high'])}]"


def summary_lines(r: BankRolloutResult) -> list[str]:
    s = summary(r)
    reps, end = len(r.replications), r.months[-1]
    lines = [
        f"bank-card city: {reps} replications of {len(r.days) // reps} sample days "
        f"({r.holders_simulated} cardholders each); predictions as mean [95% t interval]"
    ]
    inputs = sum(kpi == "terminals" for kpi, *_ in r.targets)
    lines.append(f"targets: {len(r.targets) - inputs} predicted by the model, {inputs} plan input")
    for kpi, due, low, actual in r.targets:
        kind = "plan input" if kpi == "terminals" else "prediction"
        lines.append(
            f"{kpi} by {due}: {kind}: {actual:,} against {low:,} ({'met' if actual >= low else 'MISSED'})"
        )
    lines.append(
        f"cards per bank at {end}, {r.plans[-1].cardholders:,} in all (prediction of the plan's adoption"
        " model, whose values are ASSUMPTIONS, x card mix, an input):"
    )
    lines += [
        f"  {bank:<10} {v['cards']:>9,}  ({r.card_share[bank]:.0%})" for bank, v in s["cards_by_bank"].items()
    ]
    lines.append(f"transactions {r.months[0]}..{end} by channel (prediction):")
    for c in CHANNELS:
        t = s["transactions_by_channel"][c]
        lines.append(f"  {CHANNEL_NAMES[c]:<22} {_range(t, _count):>32}  {_cny(t['fen_mean'])}")
    lines.append("fees per party over the span (prediction):")
    lines += [f"  {party:<24} {_range(f, _cny)}" for party, f in s["fees_by_party_fen"].items()]
    a = s["acquirer"]
    lines.append(
        f"acquirer {r.acquirer}: {a['terminals']['value']:,} convenience terminals (plan input), "
        f"investment {_cny(a['investment_fen']['value'])} (plan input)"
    )
    lines.append(f"  its income in {end}: {_range(a['income_fen_last_month'], _cny)} (prediction)")
    paybacks = ", ".join(_payback_text(p["month"], p["months_beyond_span"], end) for p in a["payback"])
    lines.append(f"  payback (prediction, per replication): {paybacks}")
    d = s["sample_days"]
    lines.append(
        f"sample days: {d['days']}, {d['transactions']:,} payments ({d['ec_offline']:,} offline on EC), "
        f"{d['loads']:,} EC loads, {d['unloads']:,} unloads, {d['declined']:,} declined, {d['apdus']:,} APDUs"
    )
    lines.append("every sample day cleared, settled T+1 with every position at zero, money conserved")
    return lines


def _payback_text(month: str | None, beyond: float | None, end: str) -> str:
    if month is not None:
        return month
    if beyond is None:
        return "never at the last month's rate"
    return f"{beyond:.0f} months after {end}"


def write_bank_report(r: BankRolloutResult, folder: Path) -> Path:
    with staged_folder(folder) as work:
        (work / "result.json").write_text(json.dumps(summary(r), indent=2) + "\n", encoding="utf-8")
        (work / "report.md").write_text(
            f"# {r.scenario}: the bank-card city\n\n"
            + "\n".join(f"    {x}" for x in summary_lines(r))
            + "\n",
            encoding="utf-8",
        )
    return folder / "report.md"
