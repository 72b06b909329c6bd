"""The day report a planner reads: money in CNY with separators, utilisation in %, invariants in
words; the CSVs keep the raw figures (fen, fractions, 0/1) for machines."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from scenarios.schema import load
from sim.day.report import _cell, _cny, write_results
from sim.day.shards import run_day


def test_cells_read_as_a_planner_reads_them() -> None:
    assert (
        _cny(2_584_273_104_742) == "CNY 25,842,731,047.42"
        and _cny(-5) == "-CNY 0.05"
        and _cny(0) == "CNY 0.00"
    )
    assert _cell("utilisation", 0.176053) == "17.6 %"
    assert (_cell("ok", 1), _cell("ok", 0)) == ("holds", "VIOLATED")
    assert _cell("amount_fen", 4_690_000) == "CNY 46,900.00" and _cell("served", 27196) == "27,196"


def test_report_html_in_words_and_csv_raw(tmp_path: Path) -> None:
    run = run_day(load().replace(sample=0.0004))
    write_results(run, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "_fen</th>" not in page and "<th>fen</th>" not in page and "(CNY)</th>" in page
    assert re.search(r"<td>CNY \d{1,3}(,\d{3})*\.\d\d</td>", page)
    assert re.search(r"<td>\d+\.\d %</td>", page)  # terminal utilisation
    assert (
        "<td>holds</td>" in page
        and "<td>1</td>" not in page.split("<h2>invariants</h2>")[1].split("</table>")[0]
    )
    with (tmp_path / "money.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["key", "fen"]
    assert int(dict(rows[1:])["loads"]) == run.closing().loads_fen  # the CSV keeps integer fen
