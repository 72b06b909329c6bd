"""What a viewer can take away: CSV tables, PNG figures and one self-contained HTML report.

Everything is made from the `RolloutResult` on screen, so a download cannot disagree with
the page: tables, the page's own Vega-Lite charts at the last month in the viewer's language
(the same specifications and data, rendered to PNG offline by vl-convert), an HTML report that
embeds them (one file to mail), and the results folder `cardtwin rollout` writes for the same
run (SQLite, CSVs, its own figures and report), zipped. A viewer's files are made once per run
and language and kept (`FileCache`), so visiting the view again costs nothing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency
import vl_convert

from dashboard import charts, charts_city, charts_flows, frames, participants
from dashboard.charts import Spec
from dashboard.i18n import t
from sim.rollout import KPI_COUNTS, RolloutResult, write_rollout

CSV = "text/csv"
PNG = "image/png"
WIDTH_PX = 640  # a figure's width in the PNG: a report page's column
ENTRIES = 8

Built = tuple[pd.DataFrame, Spec]
Build = Callable[[RolloutResult, int, str, float, participants.Cast], Spec]


def inline(built: Built, width_px: int = WIDTH_PX) -> Spec:
    """A chart as one self-contained Vega-Lite document: its data inside, a fixed width (the
    square map keeps its own)."""
    data, spec = built
    frame = data.astype(object).where(data.notna(), None)  # NaN is no JSON: an absent value is null
    return {"data": {"values": frame.to_dict("records")}, "width": width_px, **spec}


def _kpis(r: RolloutResult, i: int, lang: str) -> Spec:
    return {
        "title": t("fig_kpis", lang),
        "hconcat": [inline(charts.kpi_chart(r, i, lang, k), WIDTH_PX // 3) for k in KPI_COUNTS],
    }


def _titled(built: Built, key: str, lang: str) -> Spec:
    return {"title": t(key, lang), **inline(built)}


FIGURES: dict[str, Build] = {
    "kpis": lambda r, i, lang, _w, _c: _kpis(r, i, lang),
    "sectors": lambda r, i, lang, _w, _c: _titled(charts.sectors_chart(r, i, lang), "fig_sectors", lang),
    "waits": lambda r, i, lang, _w, _c: _titled(charts.waits_chart(r, i, lang), "fig_waits", lang),
    "float": lambda r, i, lang, _w, _c: _titled(charts.float_chart(r, i, lang), "fig_float", lang),
    "money": lambda r, i, lang, _w, _c: _titled(charts.money_chart(r, i, lang), "fig_money", lang),
    "city": lambda r, i, lang, w, c: _titled(charts_city.city_chart(r, i, lang, w, c), "fig_city", lang),
    "flows": lambda r, _i, lang, _w, c: _titled(
        charts_flows.flows_chart(participants.regroup(r.flows, c), lang), "fig_flows", lang
    ),
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


def figure_specs(
    result: RolloutResult, lang: str, walk_km: float, cast: participants.Cast
) -> dict[str, Spec]:
    """Every figure at the last month, as the Vega-Lite documents that the PNGs render."""
    last = len(result.months) - 1
    return {key: build(result, last, lang, walk_km, cast) for key, build in FIGURES.items()}


def to_png(spec: Spec) -> bytes:
    png: bytes = vl_convert.vegalite_to_png(spec, scale=math.sqrt(2))
    assert png.startswith(b"\x89PNG"), "vl-convert returned no PNG"
    return png


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


Files = list[tuple[str, str, bytes, str]]


def _csv(frame: pd.DataFrame) -> bytes:
    text: str = frame.to_csv(index=False)
    return text.encode()


def files(result: RolloutResult, lang: str, walk_km: float, cast: participants.Cast) -> Files:
    """(label key, file name, bytes, MIME type) of every download."""
    out = [
        ("download_csv", "months.csv", frames.months_frame(result).to_csv(index=False).encode(), CSV),
        ("download_targets", "targets.csv", frames.targets_csv(result).to_csv(index=False).encode(), CSV),
        (
            "download_flows",
            "flows.csv",
            _csv(frames.flows_frame(participants.regroup(result.flows, cast))),
            CSV,
        ),
        ("download_sites", "sites.csv", frames.sites_frame(result).to_csv(index=False).encode(), CSV),
    ]
    pngs = {key: to_png(spec) for key, spec in figure_specs(result, lang, walk_km, cast).items()}
    out += [("download_png", f"{key}.png", png, PNG) for key, png in pngs.items()]
    out.append(("download_html", "report.html", report_html(result, lang, pngs).encode(), "text/html"))
    out.append(("download_folder", "results.zip", results_zip(result), "application/zip"))
    return out


class FileCache:
    """Made downloads by run (held, so its id stays unique), language and walking distance."""

    def __init__(self, entries: int = ENTRIES) -> None:
        assert entries >= 1
        self._entries = entries
        self._files: OrderedDict[tuple[int, str, float], tuple[RolloutResult, Files]] = OrderedDict()
        self._lock = threading.Lock()

    def files(self, result: RolloutResult, lang: str, walk_km: float, cast: participants.Cast) -> Files:
        key = (id(result), lang, walk_km)
        with self._lock:
            entry = self._files.get(key)
            if entry is not None and entry[0] is result:
                self._files.move_to_end(key)
                return entry[1]
        made = files(result, lang, walk_km, cast)
        with self._lock:
            self._files[key] = (result, made)
            while len(self._files) > self._entries:
                self._files.popitem(last=False)
        return made
