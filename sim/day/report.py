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

from model.backoffice import SettlementReport
from model.money import format_fen
from scenarios.schema import Scenario
from sim.cards import ReaderReport
from sim.city import SECTORS
from sim.day.invariants import Closing
from sim.day.metrics import HOURS, UPLOAD_DELAY_BIN_S, DayMetrics, wait_summary
from sim.day.shards import RunResult, utilisation
from sim.day.spending import spending_table
from sim.day.tides import write_fare_transactions
from sim.services.report import services_tables
from sim.table import Row, Table

# Where `cardtwin run` keeps the night's clearing database in the results folder (sim.cli.run).
CLEARING_DB_NAME = "clearing.sqlite"


SETTLEMENT_COLUMNS = [
    "participant",
    "bank",
    "loads_fen",
    "load_count",
    "gross_fen",
    "purchase_count",
    "fee_fen",
    "position_fen",
]


def tables(run: RunResult) -> dict[str, Table]:
    """Every result table: name -> (columns, rows). Plain values only, in a fixed order.

    The order is the order of the SQLite tables, the CSV files and the report's sections. The
    settlement tables exist only when the back office settled the day, the real-card table
    only when a PC/SC reader stood in for the modelled taps.
    """
    closing = run.closing()
    out: dict[str, Table] = {
        "run": _run_table(run),
        "hourly": _hourly_table(run),
        "spending": spending_table(run),
        "queues": _queues_table(run),
        "terminals": _terminals_table(run),
        "rejected": _rejected_table(run),
        "uploads": _uploads_table(run.metrics),
        "upload_delay_hist": _upload_delay_hist_table(run.metrics),
        "float": _float_table(run.metrics, closing.opening_float_fen, run.weight),
        "funding": _funding_table(run),
        "money": _money_table(closing),
        "invariants": _invariants_table(run),
    }
    if run.settlement is not None:
        out["settlement"] = _settlement_table(run.settlement)
        out["instructions"] = (["bank", "amount_fen"], sorted(run.settlement.instructions.items()))
    readers = [shard.reader for shard in run.shards if shard.reader is not None]
    if readers:
        out["real_cards"] = _real_cards_table(readers, run.scenario)
    services = run.services()
    if services is not None:
        out |= services_tables(services, run.weight)
    return out


def _run_table(run: RunResult) -> Table:
    s = run.scenario
    return (
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
            ("weight", round(run.weight, 6)),
            ("clearing_port", (run.night or run.shards[0].night).port),
        ],
    )


def _hourly_table(run: RunResult) -> Table:
    m = run.metrics
    w = run.weight
    return (
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


def _queues_table(run: RunResult) -> Table:
    queues: list[Row] = []
    for kind in ("kiosk", "window"):
        n, mean, p95 = wait_summary(run.waits_s(kind))
        balked = sum(r.balked[kind] for r in run.shards)
        queues.append((kind, n, round(mean, 3), round(p95, 3), balked))
    return ["point", "served", "wait_mean_s", "wait_p95_s", "balked"], queues


def _terminals_table(run: RunResult) -> Table:
    util = utilisation(run)
    return (
        ["kind", "terminals", "utilisation"],
        [(k, sum(r.terminals[k] for r in run.shards), round(v, 6)) for k, v in util.items()],
    )


def _rejected_table(run: RunResult) -> Table:
    """Rejections in the day (at the terminal) and at night (by the clearing), by reason."""
    rejected = dict(run.metrics.rejected)
    nights = [run.night] if run.night is not None else [r.night for r in run.shards]
    for night in nights:
        for reason, count in night.rejected_by_reason.items():
            rejected[f"clearing:{reason}"] = rejected.get(f"clearing:{reason}", 0) + count
    return ["reason", "count"], sorted(rejected.items())


def _uploads_table(m: DayMetrics) -> Table:
    delay_s_mean = m.upload_delay_sum_s / m.uploaded_records if m.uploaded_records else 0.0
    return (
        ["key", "value"],
        [
            ("batches", m.batches),
            ("records", m.uploaded_records),
            ("duplicate_batches", m.duplicate_batches),
            ("late_batches", m.late_batches),
            ("late_records", m.late_records),
            ("delay_mean_s", round(delay_s_mean, 3)),
            ("delay_max_s", round(m.upload_delay_max_s, 3)),
        ],
    )


def _upload_delay_hist_table(m: DayMetrics) -> Table:
    return (
        ["from_s", "records"],
        [(i * UPLOAD_DELAY_BIN_S, int(c)) for i, c in enumerate(m.upload_delay_hist) if c],
    )


def _float_table(m: DayMetrics, opening_float_fen: int, weight: float) -> Table:
    """Stored value on the cards at the end of each hour: loads add to it, purchases take away.

    The last two sectors load cards (recharge points and windows), the first four spend from them.
    """
    hourly_net = (m.tx_fen[4] + m.tx_fen[5] - m.tx_fen[:4].sum(axis=0)).cumsum()
    return (
        ["hour_end", "float_fen", "float_fen_scaled"],
        [
            (
                h + 1,
                int(opening_float_fen + hourly_net[h]),
                round((opening_float_fen + hourly_net[h]) * weight),
            )
            for h in range(HOURS)
        ],
    )


def _funding_table(run: RunResult) -> Table:
    """Where the loaded money came from: each bank's card loads, and cash at the windows."""
    banks: dict[str, int] = {}
    for r in run.shards:
        for name, fen in r.banks.items():
            banks[name] = banks.get(name, 0) + fen
    banks["cash (windows)"] = sum(r.cash_fen for r in run.shards)
    return ["source", "loads_fen"], sorted(banks.items())


def _money_table(closing: Closing) -> Table:
    return (
        ["key", "fen"],
        [
            ("opening_float", closing.opening_float_fen),
            ("loads", closing.loads_fen),
            ("purchases", closing.purchases_fen),
            ("closing_float", closing.closing_float_fen),
            ("funded", closing.funded_fen),
        ],
    )


def _invariants_table(run: RunResult) -> Table:
    return (
        ["shard", "check", "ok", "detail"],
        [(r.shard, c.name, int(c.ok), c.detail) for r in run.shards for c in r.checks]
        + [("night", c.name, int(c.ok), c.detail) for c in run.night_checks],
    )


def _settlement_table(settlement: SettlementReport) -> Table:
    """One line per participant, then the reserve account's position so the column nets to zero."""
    return (
        SETTLEMENT_COLUMNS,
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
            for x in settlement.lines
        ]
        + [("reserve", "", 0, 0, 0, 0, 0, settlement.reserve_position_fen)],
    )


def _real_cards_table(readers: list[ReaderReport], scenario: Scenario) -> Table:
    """Real cards in the loop: the measured PC/SC round trips beside the modelled tap times."""
    fields = [f.name for f in dataclasses.fields(readers[0])]
    modelled: list[Row] = [
        ("modelled_bus_tap_s", scenario.service.bus_tap_s),
        ("modelled_gate_tap_s", scenario.service.gate_tap_s),
    ]
    return (
        ["key", "value"],
        [(name, getattr(r, name)) for r in readers for name in fields] + modelled,
    )


def write_results(run: RunResult, folder: Path) -> Path:
    """Write the results folder; returns the report's path. With the back office, the cleared
    records also go to `fare_transactions.csv` (TIDES, sim.day.tides), from the clearing
    database the run kept in the folder."""
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
    clearing_db = folder / CLEARING_DB_NAME
    if run.night is not None and clearing_db.exists():  # this run's night wrote it (back office)
        write_fare_transactions(clearing_db, folder / "fare_transactions.csv")
    figures = _figures(run, folder)
    report = folder / "report.html"
    report.write_text(_html(run, data, figures), encoding="utf-8")
    return report


def _figures(run: RunResult, folder: Path) -> list[str]:
    # pyplot costs about 0.5 s to import; loaded here, the processes that import the day but
    # draw nothing (the clearing child of `verify`'s kill9 fault, Dask workers) do not pay it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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

    float_rows = _float_table(m, run.closing().opening_float_fen, w)[1]
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


def _cny(fen: int) -> str:
    """1234567 fen -> 'CNY 12,345.67' (thousands separators, exact: no float)."""
    whole, frac = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}CNY {whole:,}.{frac:02d}"


def _cell(column: str, value: object) -> str:
    """A planner's reading of one value; the CSV keeps the raw one (fen, fractions, 0/1)."""
    if (column == "fen" or column.endswith("_fen")) and isinstance(value, int):
        return _cny(value)
    if column in ("utilisation", "share") and isinstance(value, float):
        return f"{value * 100:.1f} %"
    if column == "ok" and isinstance(value, int):
        return "holds" if value else "VIOLATED"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool) and column not in ("hour", "shard", "from_s"):
        return f"{value:,}"
    return str(value)


def _heading(column: str) -> str:
    if column == "fen":
        return "CNY"
    if column.endswith("_fen"):
        return column[: -len("_fen")].replace("_", " ") + " (CNY)"
    if column == "ok":
        return "holds?"
    return column.replace("_", " ")


def _table_html(columns: list[str], rows: list[Row], limit: int = 60) -> str:
    head = "".join(f"<th>{html.escape(_heading(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(_cell(c, v))}</td>" for c, v in zip(columns, row, strict=True))
        + "</tr>"
        for row in rows[:limit]
    )
    more = f"<p>({len(rows) - limit} more rows in the CSV)</p>" if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _html(run: RunResult, data: dict[str, Table], figures: list[str]) -> str:
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
