"""The sidebar: language, view, scenario (shipped or uploaded), key parameters, seed, sample, Run.

It returns what to run, or None while the inputs are not runnable; bad files and bad values
show the scenario loader's own one-line message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard import params, runner, state
from dashboard.i18n import name, t, title
from model.errors import CardTwinError
from scenarios.rollout_schema import RolloutScenario

VIEWS = ("view_rollout", "view_city", "view_flows", "view_services", "view_compare", "view_downloads")
# The dashboard's default sample keeps a first run of a shipped scenario to seconds; the
# viewer raises it for closer figures (each simulated citizen then weighs less).
SAMPLE_DEFAULT_MAX = 0.0002
SAMPLE_MIN = 1e-5
# The city of the default day scenario (scenarios/default.toml), first in the list.
DEFAULT_SCENARIO = "hangzhou-2004-2009"


@dataclass(frozen=True)
class Request:
    path: Path
    overrides: dict[str, Any]
    seed: int
    sample: float


def translated_radio(
    label: str, options: tuple[str, ...], name: str, lang: str, horizontal: bool = False
) -> str:
    """A radio whose option labels follow the language; the choice survives a language switch.

    The widget is new for each language (its key names it), started at the choice kept under
    `name`, so the browser never shows a radio whose labels changed under its selection.
    """
    current = st.session_state.get(name, options[0])
    choice: str = st.radio(
        label,
        options,
        index=options.index(current),
        format_func=lambda o: t(o, lang),
        horizontal=horizontal,
        key=f"{name}:{lang}",
    )
    st.session_state[name] = choice
    return choice


@st.cache_resource
def uploads() -> runner.UploadFolder:
    return runner.UploadFolder()


def scenario_choice(lang: str, key: str = "scenario") -> Path | None:
    """A shipped scenario by name, or an uploaded file; None until one is given."""
    names = sorted(runner.shipped_scenarios(), key=lambda n: n != DEFAULT_SCENARIO)
    source = translated_radio(
        t("scenario_source", lang), ("shipped", "uploaded"), f"{key}_source", lang, horizontal=True
    )
    if source == "shipped":
        if not names:
            st.error(t("no_shipped", lang))
            return None
        name = st.selectbox(t("scenario", lang), names, key=f"{key}_name")
        return runner.shipped_scenarios()[name]
    upload = st.file_uploader(t("upload_file", lang), type=["toml"], key=f"{key}_upload")
    if upload is None:
        st.info(t("upload_first", lang))
        return None
    try:
        return uploads().write(upload.name, upload.getvalue())
    except CardTwinError as exc:
        st.error(str(exc))
        return None


@st.cache_resource(max_entries=32, show_spinner=False)
def _cached_load(path: str, digest: str, overrides: tuple[tuple[str, Any], ...]) -> RolloutScenario:
    """Loaded scenarios by file, content and overrides: every rerun of the page needs one."""
    del digest  # part of the key only: an edited file is loaded again
    return runner.load(Path(path), dict(overrides))


def _load(path: Path, overrides: dict[str, Any] | None = None) -> RolloutScenario | None:
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return _cached_load(str(path), digest, tuple(sorted((overrides or {}).items())))
    except CardTwinError as exc:
        st.error(uploads().shown(str(exc)))
        return None


def _edit(base: RolloutScenario, lang: str) -> dict[str, Any]:
    """One input per key parameter, starting at the scenario's value; returns the edited values."""
    edited: dict[str, Any] = {}
    ident = base.source
    with st.expander(t("parameters", lang), expanded=False):
        for p, value in params.available(base):
            key = f"param:{ident}:{p.dotted}"
            label = p.label[lang]
            dotted = p.dotted
            if p.choices:
                edited[dotted] = st.selectbox(
                    label,
                    p.choices,
                    index=p.choices.index(value),
                    key=key,
                    format_func=lambda c: name(c, lang),
                )
            elif p.kind is str:
                edited[dotted] = st.text_input(label, value=str(value), key=key)
            elif p.kind is int:
                edited[dotted] = int(st.number_input(label, value=int(value), step=int(p.step or 1), key=key))
            else:
                edited[dotted] = float(
                    st.number_input(label, value=float(value), step=p.step, format="%.4f", key=key)
                )
    return edited


def render() -> Request | None:
    """Draw the sidebar; the request to run when the viewer pressed Run with valid inputs."""
    lang = state.lang()
    with st.sidebar:
        st.toggle(t("language", lang), key=state.LANG)
        lang = state.lang()
        translated_radio(t("view", lang), VIEWS, state.VIEW, lang)
        st.divider()
        path = scenario_choice(lang)
        if path is None:
            return None
        base = _load(path)
        if base is None:
            state.clear_results()  # a broken file: the run of another file is no longer asked for
            return None
        if base.rollout.title:
            st.caption(title(base.name, base.rollout.title, lang))
        edited = _edit(base, lang)
        base_values = {p.dotted: value for p, value in params.available(base)}
        changes = params.overrides(base_values, edited)
        # validated as the viewer types, with the loader's own message
        valid = not changes or _load(path, changes) is not None
        ident = base.source
        seed = int(st.number_input(t("seed", lang), value=base.rollout.seed, step=1, key=f"seed:{ident}"))
        sample = float(
            st.number_input(
                t("sample", lang),
                value=max(SAMPLE_MIN, min(base.rollout.sample, SAMPLE_DEFAULT_MAX)),
                min_value=SAMPLE_MIN,
                max_value=1.0,
                step=0.0001,
                format="%.5f",
                key=f"sample:{ident}",
            )
        )
        if not st.button(t("run", lang), type="primary", key="run", disabled=not valid):
            return None
        return Request(path=path, overrides=changes, seed=seed, sample=sample)
