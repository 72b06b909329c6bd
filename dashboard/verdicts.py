"""Are we on track? A target's status at the month shown, its traffic light, and the tally.

A target whose figure the scenario sets (a plan input: a milestone or a deployment batch) is
no achievement: it is shown as an input, gets no light and is not counted in "x of y targets
met". Only a figure the model predicts is judged, and only from its due month on (before,
the outcome is not known). The verdict comes from the rollout (`TargetCheck.verdict`, filled
by the engine); an empty verdict is derived from `met`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.rollout import RolloutResult, TargetCheck
from sim.rollout.result import SOURCE_PLAN_INPUT

PENDING, MET, MISSED, ABOVE, PLAN_INPUT = "pending", "met", "missed", "above range", "plan input"
# The light of each status: green met, red missed, amber above the plan's range (the model and
# the plan disagree), grey not due yet, blue an input (no judgement). A dot in the status's
# colour, not an emoji: headless browsers and many phones have no colour-emoji font.
COLOURS = {MET: "green", MISSED: "red", ABOVE: "orange", PENDING: "gray", PLAN_INPUT: "blue"}
HEX = {MET: "#2ca02c", MISSED: "#d62728", ABOVE: "#e08a00", PENDING: "#8a8a8a", PLAN_INPUT: "#1f6fb4"}
DOT = "●"


def light(status: str) -> str:
    """The light as Streamlit markdown (metric labels, captions): ':green[●]'."""
    return f":{COLOURS[status]}[{DOT}]"


def is_plan_input(check: TargetCheck) -> bool:
    return check.source == SOURCE_PLAN_INPUT or check.verdict == PLAN_INPUT


def status(check: TargetCheck, month: str) -> str:
    """The status a viewer at `month` sees."""
    if is_plan_input(check):
        return PLAN_INPUT
    if month < check.target.due_month:
        return PENDING
    if check.verdict:
        assert check.verdict in (MET, MISSED, ABOVE), check.verdict
        return check.verdict
    return MET if check.met else MISSED


def completion(check: TargetCheck) -> float | None:
    """完成率: actual over the target's low bound (None when the bound is 0)."""
    return check.actual / check.target.low if check.target.low else None


@dataclass(frozen=True, slots=True)
class Tally:
    met: int  # predictions due by the month and met (or above range)
    due: int  # predictions due by the month
    judged: int  # every prediction of the run (due or not)
    plan_inputs: int  # targets restating an input, not judged


def tally(result: RolloutResult, month: str) -> Tally:
    statuses = [status(c, month) for c in result.targets]
    judged = [s for s in statuses if s != PLAN_INPUT]
    due = [s for s in judged if s != PENDING]
    return Tally(
        met=sum(s in (MET, ABOVE) for s in due),
        due=len(due),
        judged=len(judged),
        plan_inputs=len(statuses) - len(judged),
    )


def p_met_text(check: TargetCheck, lang: str = "en") -> str:
    """'P(met) 0.82 [0.71, 0.90]' (达成概率 in Chinese) from replications; '' for a single run."""
    if check.p_met is None:
        return ""
    text = f"{'达成概率' if lang == 'zh' else 'P(met)'} {check.p_met:.2f}"
    if check.p_met_low is not None and check.p_met_high is not None:
        text += f" [{check.p_met_low:.2f}, {check.p_met_high:.2f}]"
    return text
