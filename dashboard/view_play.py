"""The two views that play the rollout: KPIs against targets, and the city map.

Both render inside a fragment that re-runs on a timer while playing, so only the view
redraws, not the sidebar. Starting or stopping play changes the timer, which needs a full
rerun: the fragment asks for one when the state no longer matches how it was created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency
import streamlit as st

from dashboard import charts, charts_city, frames, participants, playback, settle, state, units, view_header
from dashboard.i18n import name, t
from sim.rollout import KPI_COUNTS, MonthRow, RolloutResult

PLAY_INTERVAL_S = 1.0


def controls(result: RolloutResult, lang: str) -> int:
    """Back, play/pause, step, months per step and the time slider; returns the month index."""
    pb = state.pb()
    months = [r.month for r in result.months]
    cols = st.columns([1.2, 1.2, 1.2, 2, 6], vertical_alignment="bottom")
    cols[0].button(
        t("back", lang),
        icon=":material/skip_previous:",
        key="back",
        on_click=state.on_step,
        args=(-1,),
        disabled=pb.index == 0,
    )
    if pb.playing:
        cols[1].button(
            t("pause", lang), icon=":material/pause:", key="pause", on_click=state.on_pause, type="primary"
        )
    else:
        cols[1].button(
            t("play", lang), icon=":material/play_arrow:", key="play", on_click=state.on_play, type="primary"
        )
    cols[2].button(
        t("step", lang),
        icon=":material/skip_next:",
        key="step",
        on_click=state.on_step,
        args=(1,),
        disabled=pb.at_end,
    )
    cols[3].selectbox(
        t("speed", lang),
        playback.STRIDES,
        index=playback.STRIDES.index(pb.stride),
        key=state.STRIDE,
        on_change=state.on_stride,
    )
    # A new slider for each position the playback sets: a request still carrying the old
    # slider's value (the timer's, sent before this position arrived) then moves nothing.
    # While playing the slider only shows the month (disabled): a stale value it sent back
    # was what made playback jump back a month.
    key = f"{state.SLIDER}:{pb.index}"
    cols[4].select_slider(
        t("month", lang),
        options=months,
        value=months[pb.index],
        key=key,
        on_change=state.on_seek,
        args=(months, key),
        disabled=pb.playing,
    )
    return pb.index


def _advance(playing_when_drawn: bool) -> None:
    pb = playback.tick(state.pb(), time.monotonic(), PLAY_INTERVAL_S)
    st.session_state[state.PLAYBACK] = pb
    if pb.playing != playing_when_drawn:
        st.rerun()  # start or stop the fragment's timer


def _sector(row: MonthRow, sector: str, lang: str) -> str:
    """A sector of the phase; one the month's day saw no transaction in says so."""
    shown = name(sector, lang)
    return shown if row.tx_per_day_by_sector.get(sector, 0) > 0 else f"{shown} ({t('not_simulated', lang)})"


def _headline(result: RolloutResult, index: int, lang: str) -> None:
    row = result.months[index]
    phase = result.phase_of(row.month)
    status = t("playing", lang) if state.pb().playing else t("paused", lang)
    st.subheader(f"{row.month} · {t('phase', lang)}: {name(phase.name, lang)}")
    st.caption(f"{status} · {', '.join(_sector(row, s, lang) for s in row.sectors)}")
    cols = st.columns(len(KPI_COUNTS) + 2)
    for col, kpi in zip(cols, KPI_COUNTS, strict=False):
        nxt = frames.next_target(result, kpi, row.month)
        value = getattr(row, kpi)
        delta = None
        if nxt is not None:
            low = units.kpi_value(kpi, nxt.target.low, lang)
            delta = t("next_target", lang, v=low, m=nxt.target.due_month)
        shown = units.count(value, lang, kpi)
        col.metric(t(kpi, lang), shown, delta=delta, delta_color="off", delta_arrow="off")
    cols[-2].metric(t("coverage", lang), units.share(row.coverage_share))
    cols[-1].metric(t("float", lang), units.yuan(row.float_fen, lang))


def _chart(built: tuple[pd.DataFrame, dict[str, Any]], title: str, lang: str) -> None:
    data, spec = built
    st.markdown(f"**{t(title, lang)}**")
    st.vega_lite_chart(data, spec, width="stretch")


def rollout_body(result: RolloutResult, index: int, lang: str) -> None:
    _headline(result, index, lang)
    month = result.months[index].month
    view_header.target_cards(result, month, lang)
    st.markdown(f"**{t('fig_kpis', lang)}**")
    for col, kpi in zip(st.columns(len(KPI_COUNTS)), KPI_COUNTS, strict=True):
        with col:
            data, spec = charts.kpi_chart(result, index, lang, kpi)
            st.vega_lite_chart(data, spec, width="stretch")
    left, right = st.columns(2)
    with left:
        _chart(charts.sectors_chart(result, index, lang), "fig_sectors", lang)
        _chart(charts.float_chart(result, index, lang), "fig_float", lang)
    with right:
        _chart(charts.waits_chart(result, index, lang), "fig_waits", lang)
        _chart(charts.money_chart(result, index, lang), "fig_money", lang)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('targets', lang)}**")
        if result.targets:
            table = frames.targets_frame(result, month, lang)
            colours = frames.status_colours(result, month)
            styled = table.style.apply(lambda _col: colours, subset=[t("status", lang)])
            st.table(styled, border="horizontal", hide_index=True)
        else:
            st.caption(t("no_targets", lang))
        payback = result.payback_month or t("never", lang)
        st.markdown(f"**{t('payback', lang)}:** {payback}")
    with right:
        st.markdown(f"**{t('fig_positions', lang)}**")
        cast = state.cast()
        flows = participants.regroup(settle.period_flows(result, index, index), cast)
        st.table(frames.positions_frame(settle.positions(flows), lang), border="horizontal", hide_index=True)
        for note in participants.notes(flows, cast, lang):
            st.caption(note)


def city_body(result: RolloutResult, index: int, lang: str, walk_km: float) -> None:
    _headline(result, index, lang)
    st.markdown(f"**{t('fig_city', lang)}**")
    cast = state.cast()
    data, spec = charts_city.city_chart(result, index, lang, walk_km, cast)
    st.vega_lite_chart(data, spec, width="stretch")
    st.caption(charts_city.caption(result, lang, cast))


def played(body: Callable[[RolloutResult, int, str], None], result: RolloutResult) -> None:
    """Controls and a view body, redrawn on a timer while playing."""
    playing = state.pb().playing

    @st.fragment(run_every=PLAY_INTERVAL_S if playing else None)
    def view() -> None:
        _advance(playing)
        lang = state.lang()
        index = controls(result, lang)
        body(result, index, lang)

    view()
