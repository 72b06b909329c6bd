"""The CardTwin dashboard, a Streamlit script: `cardtwin dashboard` starts it.

Kept thin on purpose: the sidebar, the views, the figures and the playback logic live in
their own modules; this script only wires them and runs what the sidebar asks for, showing
the rollout's progress while it runs. Only real rollout runs are ever shown.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard import runner, sidebar, state
from dashboard.i18n import t
from model.errors import CardTwinError


@st.cache_resource
def run_cache() -> runner.RunCache:
    return runner.RunCache()


def run_request(request: sidebar.Request, lang: str) -> None:
    started = time.perf_counter()
    try:
        scenario = runner.load(request.path, request.overrides)
        bar = st.progress(0.0, text=t("running", lang))

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"{t('running', lang)}: {done}/{total}")

        result, cached = runner.run(run_cache(), scenario, request.seed, request.sample, progress)
        bar.empty()
    except CardTwinError as exc:
        st.session_state[state.MESSAGE] = ("error", sidebar.uploads().shown(str(exc)), {})
        return
    from dashboard.participants import cast_of

    walk_km = scenario.deployment.walk_m / 1000
    state.set_result(
        result,
        walk_km=walk_km,
        overrides=dict(request.overrides),
        cast=cast_of(scenario),
        services=runner.services_of(scenario, result),
    )
    if cached:
        st.session_state[state.MESSAGE] = ("success", "run_cached", {})
    else:
        st.session_state[state.MESSAGE] = ("success", "run_done", {"s": time.perf_counter() - started})


def show_message(lang: str) -> None:
    # Shown once, on the rerun of the run it reports: an edit afterwards is not "the same inputs".
    message = st.session_state.pop(state.MESSAGE, None)
    if message is None:
        return
    kind, text, fmt = message
    if kind == "error":
        st.error(text)
    else:
        st.success(t(text, lang, **fmt))


def main() -> None:
    st.set_page_config(page_title="CardTwin", page_icon="💳", layout="wide")
    request = sidebar.render()
    lang = state.lang()
    st.title(t("app_title", lang))
    st.caption(t("app_caption", lang))
    if request is not None:
        run_request(request, lang)
    show_message(lang)
    result = state.result()
    if result is None:
        st.info(t("no_run", lang))
        return
    # The views (pandas, the figures, the rollout's types) load once there is a run to show:
    # the first page, a sidebar and a prompt, stays light.
    from dashboard import view_header, view_more, view_play, view_services

    view = st.session_state[state.VIEW]
    view_header.header(result, state.overrides(), lang)
    if view == "view_rollout":
        view_play.played(view_play.rollout_body, result)
    elif view == "view_city":
        walk_km = state.walk_km()
        view_play.played(lambda r, i, lg: view_play.city_body(r, i, lg, walk_km), result)
    elif view == "view_flows":
        view_more.flows_view(result, lang, state.cast())
    elif view == "view_services":
        view_services.services_view(result, state.services(), lang)
    elif view == "view_compare":
        view_more.compare_view(result, lang, run_cache())
    else:
        assert view == "view_downloads", view
        view_more.downloads_view(result, lang, state.walk_km(), state.cast())


main()
