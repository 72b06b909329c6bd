"""What a viewer can take away: CSV tables, PNG figures and one self-contained HTML report.

Everything is made from the `RolloutResult` on screen, so a download cannot disagree with
the page: tables, the figures at the last month in the viewer's language, an HTML report that
embeds its figures (one file to mail), and the results folder `cardtwin rollout` writes for
the same run (SQLite, CSVs, its own figures and report), zipped.
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from dashboard import fig_city, fig_flows, fig_kpi, frames
from dashboard.fig_common import to_png
from dashboard.i18n import t
from sim.rollout import RolloutResult, write_rollout

CSV = "text/csv"
PNG = "image/png"

Draw = Callable[[RolloutResult, int, str, float], Figure]
FIGURES: dict[str, Draw] = {
    "kpis": lambda r, i, lang, _c: fig_kpi.kpi_figure(r, i, lang),
    "sectors": lambda r, i, lang, _c: fig_kpi.sectors_figure(r, i, lang),
    "waits": lambda r, i, lang, _c: fig_kpi.waits_figure(r, i, lang),
    "float": lambda r, i, lang, _c: fig_kpi.float_figure(r, i, lang),
    "money": lambda r, i, lang, _c: fig_kpi.money_figure(r, i, lang),
    "city": fig_city.city_figure,
    "flows": lambda r, _i, lang, _c: fig_flows.flows_figure(r.flows, lang),
}
_TITLES = {
    "kpis": "fig_kpis",
    "sectors": "fig_sectors",
    "waits": "fig_waits",
    "float": "fig_float",
    "money": "fig_money",
    "city": "fig_city",
    "flows": "fig_flows",
}


def figure_pngs(result: RolloutResult, lang: str, walk_km: float) -> dict[str, bytes]:
    last = len(result.months) - 1
    return {key: to_png(build(result, last, lang, walk_km)) for key, build in FIGURES.items()}


def report_html(result: RolloutResult, lang: str, pngs: dict[str, bytes]) -> str:
    last = result.months[-1]
    targets = frames.targets_frame(result, last.month, lang)
    parts = [
        "<!doctype html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(t('app_title', lang))}: {html.escape(result.scenario)}</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}img{max-width:100%}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>",
        f"<h1>{html.escape(t('app_title', lang))}</h1>",
        f"<p>{html.escape(result.scenario)} ({html.escape(result.source)}), seed {result.seed}, "
        f"sample {result.sample}, {result.months[0].month} – {last.month}</p>",
        f"<h2>{html.escape(t('targets', lang))}</h2>",
        targets.to_html(index=False, na_rep="", escape=True),
        f"<p>{html.escape(t('payback', lang))}: {html.escape(result.payback_month or t('never', lang))}</p>",
    ]
    for key, png in pngs.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<h2>{html.escape(t(_TITLES[key], lang))}</h2>")
        parts.append(f'<img alt="{key}" src="data:image/png;base64,{data}">')
    if result.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def results_zip(result: RolloutResult) -> bytes:
    """The folder `cardtwin rollout` writes for this run (SQLite, CSVs, figures, report), zipped."""
    with tempfile.TemporaryDirectory(prefix="cardtwin-dashboard-") as tmp:
        folder = Path(tmp) / "results"
        write_rollout(result, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{result.scenario}/{path.relative_to(folder)}")
        return buf.getvalue()


def files(result: RolloutResult, lang: str, walk_km: float) -> list[tuple[str, str, bytes, str]]:
    """(label key, file name, bytes, MIME type) of every download."""
    out = [
        ("download_csv", "months.csv", frames.months_frame(result).to_csv(index=False).encode(), CSV),
        ("download_targets", "targets.csv", frames.targets_csv(result).to_csv(index=False).encode(), CSV),
        ("download_flows", "flows.csv", frames.flows_frame(result).to_csv(index=False).encode(), CSV),
        ("download_sites", "sites.csv", frames.sites_frame(result).to_csv(index=False).encode(), CSV),
    ]
    pngs = figure_pngs(result, lang, walk_km)
    out += [("download_png", f"{key}.png", png, PNG) for key, png in pngs.items()]
    out.append(("download_html", "report.html", report_html(result, lang, pngs).encode(), "text/html"))
    out.append(("download_folder", "results.zip", results_zip(result), "application/zip"))
    return out
