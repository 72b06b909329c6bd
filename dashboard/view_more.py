"""The views that do not play: settlement flows, two scenarios side by side, downloads."""

from __future__ import annotations

import streamlit as st

from dashboard import downloads, fig_flows, fig_kpi, frames, runner, settle, sidebar, state, units
from dashboard.fig_common import to_png
from dashboard.i18n import t
from model.errors import CardTwinError
from sim.rollout import RolloutResult


def flows_view(result: RolloutResult, lang: str) -> None:
    """Who paid whom over a period the viewer picks, and the check that it adds up."""
    months = [r.month for r in result.months]
    first_month, last_month = st.select_slider(
        t("period", lang), options=months, value=(months[0], months[-1]), key="flows_period"
    )
    first, last = months.index(first_month), months.index(last_month)
    flows = settle.period_flows(result, first, last)
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
    period = f"{first_month} – {last_month}"
    st.image(to_png(fig_flows.flows_figure(flows, lang, period)), width="stretch")
    left, right = st.columns(2)
    with left:
        st.dataframe(frames.flows_table(flows, lang), hide_index=True)
    with right:
        st.dataframe(frames.positions_frame(settle.positions(flows), lang), hide_index=True)


def compare_view(a: RolloutResult, lang: str, cache: runner.RunCache) -> None:
    """Scenario A (the sidebar's run) beside a second scenario run at the same seed and sample."""
    st.markdown(f"**{t('scenario_b', lang)}**")
    path = sidebar.scenario_choice(lang, key="scenario_b")
    if path is not None and st.button(t("run_b", lang), key="run_b"):
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
    b = state.result_b()
    if b is None:
        return
    st.table(frames.compare_frame(a, b, lang), border="horizontal", hide_index=True)
    for letter, run, col in zip("AB", (a, b), st.columns(2), strict=True):
        with col:
            st.markdown(f"**{letter}: {run.scenario}** ({run.source}, seed {run.seed}, sample {run.sample})")
            last = len(run.months) - 1
            st.image(to_png(fig_kpi.kpi_figure(run, last, lang)), width="stretch")
            st.image(to_png(fig_kpi.float_figure(run, last, lang)), width="stretch")
            if run.targets:
                targets = frames.targets_frame(run, run.months[last].month, lang)
                st.table(targets, border="horizontal", hide_index=True)
            else:
                st.caption(t("no_targets", lang))


def downloads_view(result: RolloutResult, lang: str, walk_km: float) -> None:
    stem = result.scenario
    for label, filename, data, mime in downloads.files(result, lang, walk_km):
        st.download_button(
            t(label, lang) + f" — {filename}",
            data=data,
            file_name=f"{stem}-{filename}",
            mime=mime,
            key=f"dl:{filename}",
            on_click="ignore",
        )
