"""The views that do not play: settlement flows, two scenarios side by side, downloads.

Their charts are the same Vega-Lite charts as the played views (`charts`, `charts_flows`),
drawn by the browser; nothing here renders pixels in Python except the downloads' PNGs.
"""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency
import streamlit as st

from dashboard import (
    charts,
    charts_flows,
    downloads,
    frames,
    participants,
    runner,
    settle,
    sidebar,
    state,
    units,
)
from dashboard.charts import Spec
from dashboard.i18n import t, title
from model.errors import CardTwinError
from sim.rollout import KPI_COUNTS, RolloutResult


def _chart(built: tuple[pd.DataFrame, Spec], title: str) -> None:
    data, spec = built
    st.markdown(f"**{title}**")
    st.vega_lite_chart(data, spec, width="stretch")


def flows_view(result: RolloutResult, lang: str, cast: participants.Cast) -> None:
    """Who paid whom over a period the viewer picks, and the check that it adds up."""
    months = [r.month for r in result.months]
    first_month, last_month = st.select_slider(
        t("period", lang), options=months, value=(months[0], months[-1]), key="flows_period"
    )
    first, last = months.index(first_month), months.index(last_month)
    flows = participants.regroup(settle.period_flows(result, first, last), cast)
    check = settle.reconciliation(result, first, last)
    st.caption(
        t(
            "flows_check",
            lang,
            loads=units.yuan(check["loads_fen"], lang),
            into=units.yuan(check["into_reserve_fen"], lang),
            spending=units.yuan(check["spending_fen"], lang),
            out=units.yuan(check["out_of_reserve_fen"], lang),
            fees=units.yuan(check["fees_fen"], lang),
            kept=units.yuan(check["reserve_kept_fen"], lang),
        )
    )
    for note in participants.notes(flows, cast, lang):
        st.caption(note)
    _chart(charts_flows.flows_chart(flows, lang), f"{t('fig_flows', lang)} ({first_month} – {last_month})")
    left, right = st.columns(2)  # plain tables: a few rows each, readable (and scrolled) on a phone
    with left:
        st.table(frames.flows_table(flows, lang), border="horizontal", hide_index=True)
    with right:
        st.table(frames.positions_frame(settle.positions(flows), lang), border="horizontal", hide_index=True)


def _run_b(a: RolloutResult, lang: str, cache: runner.RunCache) -> None:
    path = sidebar.scenario_choice(lang, key="scenario_b")
    if path is None or not st.button(t("run_b", lang), key="run_b"):
        return
    try:
        scenario = runner.load(path)
        bar = st.progress(0.0, text=t("running", lang))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total)

        result, _ = runner.run(cache, scenario, a.seed, a.sample, progress)
        bar.empty()
        st.session_state[state.RESULT_B] = result
    except CardTwinError as exc:
        st.error(sidebar.uploads().shown(str(exc)))


def compare_view(a: RolloutResult, lang: str, cache: runner.RunCache) -> None:
    """Scenario A (the sidebar's run) beside a second scenario run at the same seed and sample."""
    st.markdown(f"**{t('scenario_b', lang)}**")
    _run_b(a, lang, cache)
    b = state.result_b()
    if b is None:
        return
    st.table(frames.compare_frame(a, b, lang), border="horizontal", hide_index=True)
    for letter, run, col in zip("AB", (a, b), st.columns(2), strict=True):
        with col:
            shown = t("seed_sample", lang, seed=run.seed, sample=f"{run.sample:g}")
            st.markdown(f"**{letter}: {title(run.scenario, run.scenario, lang)}** · {shown}")
            last = len(run.months) - 1
            for kpi in KPI_COUNTS:  # each KPI chart carries its own title
                st.vega_lite_chart(*charts.kpi_chart(run, last, lang, kpi), width="stretch")
            _chart(charts.float_chart(run, last, lang), f"{letter} · {t('fig_float', lang)}")
            if run.targets:
                targets = frames.targets_frame(run, run.months[last].month, lang)
                st.table(targets, border="horizontal", hide_index=True)
            else:
                st.caption(t("no_targets", lang))


@st.cache_resource
def made_files() -> downloads.FileCache:
    return downloads.FileCache()


def downloads_view(result: RolloutResult, lang: str, walk_km: float, cast: participants.Cast) -> None:
    stem = result.scenario
    for label, filename, data, mime in made_files().files(result, lang, walk_km, cast):
        st.download_button(
            t(label, lang) + f" — {filename}",
            data=data,
            file_name=f"{stem}-{filename}",
            mime=mime,
            key=f"dl:{filename}",
            on_click="ignore",
        )
