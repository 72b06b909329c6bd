"""The first screen: which run this is, how far to trust it, and are we on track.

The header names the scenario, the parameters the viewer changed, the seed and the sample,
with the sampling caveat (day figures are scaled up from a small share of citizens on a few
representative days). Below it, one card per judged target (target / actual / 完成率 with
its traffic light, P(met) with its interval from replications) and "x of y targets met";
plan inputs are listed apart, as what the plan sets.
"""

from __future__ import annotations

import streamlit as st

from dashboard import params, units, verdicts
from dashboard.frames import target_figure
from dashboard.i18n import t, title
from sim.rollout import RolloutResult, TargetCheck

CARDS_PER_ROW = 4


def header_lines(result: RolloutResult, overrides: dict[str, object], lang: str) -> tuple[str, str]:
    """(what was run, how far to trust it), as plain text for the page and its tests."""
    labels = {p.dotted: p.label[lang] for p in params.PARAMS}
    changed = ", ".join(f"{labels.get(k, k)} = {v}" for k, v in sorted(overrides.items()))
    changed = changed or t("no_overrides", lang)
    first, last = result.months[0].month, result.months[-1].month
    run = t(
        "header_run",
        lang,
        scenario=result.scenario,
        first=first,
        last=last,
        overrides=changed,
        seed=result.seed,
        sample=f"{result.sample:g}",
    )
    days = sum(r.representative_day for r in result.months)
    caveat = t("caveat", lang, share=f"{result.sample:.3%}", days=days)
    return run, caveat


def header(result: RolloutResult, overrides: dict[str, object], lang: str) -> None:
    run, caveat = header_lines(result, overrides, lang)
    st.markdown(f"**{title(result.scenario, result.scenario, lang)}** · {run}")
    st.caption(caveat)


def card_lines(check: TargetCheck, month: str, lang: str) -> tuple[str, str, str]:
    """(label, value, detail) of one target's card at `month`."""
    status = verdicts.status(check, month)
    kpi = check.target.kpi
    label = f"{verdicts.light(status)} {t(kpi, lang)} · {check.target.due_month}"
    target = f"{t('target', lang)} {target_figure(check, lang)}"
    if status == verdicts.PENDING:
        return label, t("pending", lang), target
    actual = units.kpi_value(kpi, check.actual, lang)
    done = verdicts.completion(check)
    detail = f"{target} · {t('completion', lang)} {units.share(done)}" if done is not None else target
    p_met = verdicts.p_met_text(check, lang)
    detail = f"{detail} · {p_met}" if p_met else detail
    return label, actual, f"{t(status, lang)} · {detail}"


def target_cards(result: RolloutResult, month: str, lang: str) -> None:
    """The tally and one card per judged target; plan inputs on one line below."""
    if not result.targets:
        st.caption(t("no_targets", lang))
        return
    tally = verdicts.tally(result, month)
    line = t("tally", lang, met=tally.met, due=tally.due) + " · " + t("tally_all", lang, judged=tally.judged)
    if tally.plan_inputs:
        line += " · " + t("tally_inputs", lang, n=tally.plan_inputs)
    st.markdown(f"**{line}**")
    judged = [c for c in result.targets if not verdicts.is_plan_input(c)]
    for start in range(0, len(judged), CARDS_PER_ROW):
        cols = st.columns(CARDS_PER_ROW)
        for col, check in zip(cols, judged[start : start + CARDS_PER_ROW], strict=False):
            label, value, detail = card_lines(check, month, lang)
            col.metric(label, value, border=True)
            col.caption(detail)
    inputs = [c for c in result.targets if verdicts.is_plan_input(c)]
    if inputs:
        shown = "; ".join(
            f"{t(c.target.kpi, lang)} {target_figure(c, lang)} ({c.target.due_month})" for c in inputs
        )
        st.caption(f"{verdicts.light(verdicts.PLAN_INPUT)} {t('plan input', lang)}: {shown}")
