"""The card beyond the purse (seed 003): medical insurance, the citizen account, identity services.

At a month the viewer picks: the medical-insurance share of visits settled by card and the
park annual card's holders (model outputs of `[services.adoption]`, with their 90% band over
the ASSUMPTION ranges, `sim.services.rollout`), and the services' day figures, city-wide, from
the month's representative day (`MonthRow.services_per_day`: the twin's own services run).
Then the two outputs by month, the day figures by month, and the comparison with the seed's
"over 70%" and "36,000+". Every figure goes through `units`.
"""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types; pandas-stubs is not a dependency
import streamlit as st

from dashboard import charts_services, units
from dashboard.i18n import t
from sim.rollout import RolloutResult
from sim.services.rollout import ServicesRollout, rollout_tables

# The day figures shown as metrics: (key in services_per_day, label, money?).
DAY_METRICS = (
    ("medical_visits", "svc_medical_visits", False),
    ("medical_own_purse_fen", "svc_purse_fen", True),
    ("account_payments", "svc_account_payments", False),
    ("account_payments_fen", "svc_account_fen", True),
    ("bike_rentals", "svc_bike_rentals", False),
    ("library_loans", "svc_library_loans", False),
    ("park_entries", "svc_park_entries", False),
)
VERDICTS = {
    "seed figure inside the model's 90% band": "svc_verdict_inside",
    "model above the seed's floor (consistent with '+')": "svc_verdict_above_floor",
    "model below the seed figure": "svc_verdict_below",
    "model above the seed figure": "svc_verdict_above",
}


def day_value(value: int, money: bool, lang: str) -> str:
    return units.yuan(value, lang) if money else units.count(value, lang)


def seed_rows(r: ServicesRollout, lang: str) -> pd.DataFrame:
    """The seed comparison (services_vs_seed) in the page's units and words."""
    rows = []
    for figure, month, model, low, high, seed, verdict in rollout_tables(r)["services_vs_seed"][1]:
        shown = units.share if figure == "medical_card_share" else (lambda v: units.count(v, lang))
        label = "svc_medical_share" if figure == "medical_card_share" else "svc_park_holders"
        rows.append(
            {
                t("figure", lang): t(label, lang),
                t("month", lang): month,
                t("svc_model", lang): shown(model),
                t("svc_band", lang): f"{shown(low)} – {shown(high)}",
                t("svc_seed", lang): f"{shown(seed)}+",
                t("svc_verdict", lang): t(VERDICTS[verdict], lang),
            }
        )
    return pd.DataFrame(rows)


def services_view(result: RolloutResult, r: ServicesRollout | None, lang: str) -> None:
    if r is None:
        st.info(t("svc_none", lang))
        return
    months = [m.month for m in result.months]
    month = st.select_slider(t("month", lang), options=months, value=months[-1], key="services_month")
    i = months.index(month)
    row = result.months[i]
    st.caption(t("svc_caption", lang))
    share, s_low, s_high = r.band(r.medical_share, i)
    park, p_low, p_high = r.band(r.park_holders, i)
    left, right = st.columns(2)
    left.metric(t("svc_medical_share", lang), units.share(share))
    left.caption(t("svc_band_of", lang, low=units.share(s_low), high=units.share(s_high)))
    right.metric(t("svc_park_holders", lang), units.count(round(park), lang))
    right.caption(
        t("svc_band_of", lang, low=units.count(round(p_low), lang), high=units.count(round(p_high), lang))
    )
    st.markdown(f"**{t('svc_day_heading', lang, month=month)}**")
    if not row.services_per_day:
        st.caption(t("svc_no_day", lang))
    else:
        for start in range(0, len(DAY_METRICS), 4):  # rows of four, in DAY_METRICS order
            for cell, (key, label, money) in zip(st.columns(4), DAY_METRICS[start : start + 4], strict=False):
                cell.metric(t(label, lang), day_value(row.services_per_day.get(key, 0), money, lang))
    for data, spec in (
        charts_services.medical_share_chart(result, r, lang),
        charts_services.park_chart(result, r, lang),
        charts_services.day_chart(result, lang, lambda k: t(f"svc_{k}", lang)),
    ):
        st.vega_lite_chart(data, spec, width="stretch")
    seed = seed_rows(r, lang)
    if len(seed):
        st.markdown(f"**{t('svc_vs_seed', lang)}**")
        st.table(seed, border="horizontal", hide_index=True)
