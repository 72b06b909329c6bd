"""The dashboard's session state: language, the runs shown, and the playback position.

Streamlit re-executes the script on every interaction; what must survive lives in
`st.session_state` under the keys below. The control callbacks here run before the rerun
they cause, so the page always renders the state the viewer asked for.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import playback
from dashboard.playback import Playback

if TYPE_CHECKING:  # imported with the first run (dashboard/app.py), not by the first page
    from dashboard.participants import Cast
    from sim.rollout import RolloutResult
    from sim.services.rollout import ServicesRollout

LANG = "lang_zh"  # the sidebar toggle: True shows Chinese
RESULT = "result"  # the run being played (scenario A)
RESULT_B = "result_b"  # the second scenario of the comparison
PLAYBACK = "playback"
SLIDER = "month_slider"  # + ":<index>": one slider per position
STRIDE = "stride"
VIEW = "view"
MESSAGE = "run_message"  # the last run's outcome, shown above the views
WALK_KM = "walk_km"  # the run's walking distance, for the map's coverage shading
OVERRIDES = "overrides"  # the parameters the viewer changed for the run shown, for its header
CAST = "cast"  # the participants the shown run's scenario names (dashboard/participants.py)
SERVICES = "services"  # the shown run's services outputs (sim.services.rollout), None without [services]


def lang() -> str:
    return "zh" if st.session_state.get(LANG, False) else "en"


def result() -> RolloutResult | None:
    return st.session_state.get(RESULT)


def walk_km() -> float:
    km: float = st.session_state[WALK_KM]
    return km


def result_b() -> RolloutResult | None:
    return st.session_state.get(RESULT_B)


def set_result(
    run: RolloutResult,
    walk_km: float,
    overrides: dict[str, object],
    cast: Cast,
    services: ServicesRollout | None = None,
) -> None:
    """A new run to play: the same scenario keeps its position (a what-if seen at the same
    month); another scenario starts at its first month."""
    previous = result()
    st.session_state[RESULT] = run
    st.session_state[SERVICES] = services
    st.session_state[WALK_KM] = walk_km
    st.session_state[CAST] = cast
    st.session_state[OVERRIDES] = dict(overrides)
    current = st.session_state.get(PLAYBACK)
    same = previous is not None and previous.scenario == run.scenario
    st.session_state[PLAYBACK] = (
        playback.resize(current, len(run.months)) if current and same else playback.start(len(run.months))
    )


def clear_results() -> None:
    for key in (RESULT, RESULT_B, PLAYBACK, OVERRIDES, CAST, SERVICES):
        st.session_state.pop(key, None)


def cast() -> Cast:
    shown: Cast = st.session_state[CAST]
    return shown


def services() -> ServicesRollout | None:
    shown: ServicesRollout | None = st.session_state.get(SERVICES)
    return shown


def overrides() -> dict[str, object]:
    shown: dict[str, object] = st.session_state.get(OVERRIDES, {})
    return shown


def pb() -> Playback:
    current: Playback = st.session_state[PLAYBACK]
    return current


def _set(new: Playback) -> None:
    st.session_state[PLAYBACK] = new


def on_play() -> None:
    _set(playback.play(pb(), time.monotonic()))


def on_pause() -> None:
    _set(playback.pause(pb()))


def on_step(months: int) -> None:
    _set(playback.step(pb(), months * pb().stride))


def on_seek(months: list[str], key: str) -> None:
    _set(playback.seek(pb(), months.index(st.session_state[key]), time.monotonic()))


def on_stride() -> None:
    _set(playback.set_stride(pb(), int(st.session_state[STRIDE])))
