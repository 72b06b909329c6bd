"""A run's results folder: a SQLite results database, CSV exports, figures and an HTML report.

Every table is written once to SQLite (`results.sqlite`) and exported as `<table>.csv`; the
figures (matplotlib, Agg backend: no display needed) and `report.html` are made from the same
rows, so the report cannot disagree with the database. Scaled figures multiply the sampled
counts by the citizens' sampling weight.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import sqlite3
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from model.money import format_fen
from sim.city import SECTORS
from sim.day.metrics import HOURS, UPLOAD_DELAY_BIN_S, wait_summary
from sim.day.shards import RunResult, utilisation

Row = tuple[Any, ...]


def tables(run: RunResult) -> dict[str, tuple[list[str], list[Row]]]:
    """Every result table: name -> (columns, rows). Plain values only, in a fixed order."""
    m = run.metrics
    s = run.scenario
    w = run.weight
    closing = run.closing()
    out: dict[str, tuple[list[str], list[Row]]] = {}
    out["run"] = (
        ["key", "value"],
        [
            ("scenario", s.run.name),
            ("source", s.source),
            ("seed", s.run.seed),
            ("date", s.run.date),
            ("sample", s.run.sample),
            ("shards", s.run.shards),
            ("cardholders", s.population.cardholders),
            ("simulated_citizens", run.citizens),
            ("weight", round(w, 6)),
            ("clearing_port", (run.night or run.shards[0].night).port),
        ],
    )
    out["hourly"] = (
        ["sector", "hour", "taps", "amount_fen", "taps_scaled", "amount_fen_scaled"],
        [
            (
                sector,
                h,
                int(m.tx_count[i, h]),
                int(m.tx_fen[i, h]),
                round(m.tx_count[i, h] * w),
                round(m.tx_fen[i, h] * w),
            )
            for i, sector in enumerate(SECTORS)
            for h in range(HOURS)
        ],
    )
    queues = []
    for kind in ("kiosk", "window"):
        n, mean, p95 = wait_summary(run.waits_s(kind))
        balked = sum(r.balked[kind] for r in run.shards)
        queues.append((kind, n, round(mean, 3), round(p95, 3), balked))
    out["queues"] = (["point", "served", "wait_mean_s", "wait_p95_s", "balked"], queues)
    util = utilisation(run)
    out["terminals"] = (
        ["kind", "terminals", "utilisation"],
        [(k, sum(r.terminals[k] for r in run.shards), round(v, 6)) for k, v in util.items()],
    )
    rejected = dict(m.rejected)
    nights = [run.night] if run.night is not None else [r.night for r in run.shards]
    for night in nights:
        for reason, count in night.rejected_by_reason.items():
            rejected[f"clearing:{reason}"] = rejected.get(f"clearing:{reason}", 0) + count
    out["rejected"] = (["reason", "count"], sorted(rejected.items()))
    mean_delay = m.upload_delay_sum_s / m.uploaded_records if m.uploaded_records else 0.0
    out["uploads"] = (
        ["key", "value"],
        [
            ("batches", m.batches),
            ("records", m.uploaded_records),
            ("duplicate_batches", m.duplicate_batches),
            ("late_batches", m.late_batches),
            ("late_records", m.late_records),
            ("delay_mean_s", round(mean_delay, 3)),
            ("delay_max_s", round(m.upload_delay_max_s, 3)),
        ],
    )
    out["upload_delay_hist"] = (
        ["from_s", "records"],
        [(i * UPLOAD_DELAY_BIN_S, int(c)) for i, c in enumerate(m.upload_delay_hist) if c],
    )
    hourly_net = (m.tx_fen[4] + m.tx_fen[5] - m.tx_fen[:4].sum(axis=0)).cumsum()
    out["float"] = (
        ["hour_end", "float_fen", "float_fen_scaled"],
        [
            (
                h + 1,
                int(closing.opening_float_fen + hourly_net[h]),
                round((closing.opening_float_fen + hourly_net[h]) * w),
            )
            for h in range(HOURS)
        ],
    )
    banks: dict[str, int] = {}
    for r in run.shards:
        for name, fen in r.banks.items():
            banks[name] = banks.get(name, 0) + fen
    banks["cash (windows)"] = sum(r.cash_fen for r in run.shards)
    out["funding"] = (["source", "loads_fen"], sorted(banks.items()))
    out["money"] = (
        ["key", "fen"],
        [
            ("opening_float", closing.opening_float_fen),
            ("loads", closing.loads_fen),
            ("purchases", closing.purchases_fen),
            ("closing_float", closing.closing_float_fen),
            ("funded", closing.funded_fen),
        ],
    )
    out["invariants"] = (
        ["shard", "check", "ok", "detail"],
        [(r.shard, c.name, int(c.ok), c.detail) for r in run.shards for c in r.checks]
        + [("night", c.name, int(c.ok), c.detail) for c in run.night_checks],
    )
    if run.settlement is not None:
        out["settlement"] = (
            [
                "participant",
                "bank",
                "loads_fen",
                "load_count",
                "gross_fen",
                "purchase_count",
                "fee_fen",
                "position_fen",
            ],
            [
                (
                    x.participant,
                    x.bank,
                    x.loads_fen,
                    x.load_count,
                    x.gross_fen,
                    x.purchase_count,
                    x.fee_fen,
                    x.position_fen,
                )
                for x in run.settlement.lines
            ]
            + [("reserve", "", 0, 0, 0, 0, 0, run.settlement.reserve_position_fen)],
        )
        out["instructions"] = (["bank", "amount_fen"], sorted(run.settlement.instructions.items()))
    readers = [shard.reader for shard in run.shards if shard.reader is not None]
    if readers:
        # Real cards in the loop: the measured PC/SC round trips beside the modelled tap times.
        fields = [f.name for f in dataclasses.fields(readers[0])]
        modelled = [
            ("modelled_bus_tap_s", s.service.bus_tap_s),
            ("modelled_gate_tap_s", s.service.gate_tap_s),
        ]
        out["real_cards"] = (
            ["key", "value"],
            [(name, getattr(r, name)) for r in readers for name in fields] + modelled,
        )
    return out


def write_results(run: RunResult, folder: Path) -> Path:
    """Write the results folder; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = tables(run)
    db_path = folder / "results.sqlite"
    db_path.unlink(missing_ok=True)
    with sqlite3.connect(db_path) as db:
        for name, (columns, rows) in data.items():
            quoted = ", ".join(f'"{c}"' for c in columns)
            db.execute(f"CREATE TABLE {name} ({quoted})")
            db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", rows)
    db.close()
    for name, (columns, rows) in data.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(rows)
    figures = _figures(run, folder)
    report = folder / "report.html"
    report.write_text(_html(run, data, figures), encoding="utf-8")
    return report


def _figures(run: RunResult, folder: Path) -> list[str]:
    m = run.metrics
    w = run.weight
    names = []
    fig, ax = plt.subplots(figsize=(9, 4))
    bottom = [0.0] * HOURS
    for i, sector in enumerate(SECTORS):
        values = [float(m.tx_count[i, h]) * w for h in range(HOURS)]
        ax.bar(range(HOURS), values, bottom=bottom, label=sector)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xlabel("hour")
    ax.set_ylabel("transactions (scaled to the city)")
    ax.set_title("Card transactions by sector and hour")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "taps_by_hour.png", dpi=100)
    plt.close(fig)
    names.append("taps_by_hour.png")

    fig, ax = plt.subplots(figsize=(9, 4))
    for kind in ("kiosk", "window"):
        waits = run.waits_s(kind)
        if waits:
            ax.hist([x / 60 for x in waits], bins=30, alpha=0.6, label=f"{kind} ({len(waits)})")
    ax.set_xlabel("wait (minutes)")
    ax.set_ylabel("citizens (sampled)")
    ax.set_title("Queue waits at recharge points and service windows")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "queue_waits.png", dpi=100)
    plt.close(fig)
    names.append("queue_waits.png")

    float_rows = tables(run)["float"][1]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot([r[0] for r in float_rows], [r[2] / 100 for r in float_rows], marker="o")
    ax.set_xlabel("hour")
    ax.set_ylabel("float (CNY, scaled)")
    ax.set_title("Stored value on cards (the float) through the day")
    fig.tight_layout()
    fig.savefig(folder / "float.png", dpi=100)
    plt.close(fig)
    names.append("float.png")
    return names


def _table_html(columns: list[str], rows: list[Row], limit: int = 60) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows[:limit]
    )
    more = f"<p>({len(rows) - limit} more rows in the CSV)</p>" if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _html(run: RunResult, data: dict[str, tuple[list[str], list[Row]]], figures: list[str]) -> str:
    closing = run.closing()
    s = run.scenario
    ok = all(c.ok for r in run.shards for c in r.checks)
    summary = (
        f"<p>{html.escape(s.run.name)} on {s.run.date}, seed {s.run.seed}: {run.citizens} simulated citizens "
        f"standing for {s.population.cardholders} cardholders (weight {run.weight:.1f}), "
        f"{run.taps()} card transactions through the real protocol in {run.wall_s:.1f} s. "
        f"Float CNY {format_fen(closing.opening_float_fen)} -> "
        f"{format_fen(closing.closing_float_fen)} (sampled). "
        f"Invariants: {'all hold' if ok else 'VIOLATED'}. "
        f"Clearing: {html.escape((run.night or run.shards[0].night).port)}.</p>"
    )
    sections = "".join(
        f"<h2>{html.escape(name)}</h2>{_table_html(*table)}"
        for name, table in data.items()
        if name not in ("hourly", "upload_delay_hist")
    )
    images = "".join(f'<p><img src="{html.escape(f)}" alt="{html.escape(f)}"></p>' for f in figures)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>CardTwin run</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style>"
        f"</head><body><h1>CardTwin city day</h1>{summary}{images}{sections}</body></html>"
    )
