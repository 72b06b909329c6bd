"""Figures of the rollout over time, drawn up to the month being played.

The x axis always spans the whole run, so the viewer sees how far there is to go; lines stop
at the current month (a dotted line). Targets are marked where they fall due: grey until the
viewer reaches them, then green when met and red when missed.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from dashboard import settle, verdicts
from dashboard.fig_common import COLOURS, MET, MISSED, PENDING, month_axis, new_figure, now_line, shade_phases
from dashboard.frames import sectors
from dashboard.i18n import name, t
from sim.rollout import KPI_COUNTS, RolloutResult

_STATUS_COLOUR = {
    verdicts.MET: MET,
    verdicts.MISSED: MISSED,
    verdicts.PENDING: PENDING,
    verdicts.ABOVE: "#ff9f1c",
    verdicts.PLAN_INPUT: "#1f6fb4",
}


def _months(result: RolloutResult) -> list[str]:
    return [r.month for r in result.months]


def kpi_figure(result: RolloutResult, index: int, lang: str) -> Figure:
    """Cardholders, terminals and recharge points against each phase's targets."""
    months = _months(result)
    assert 0 <= index < len(months)
    fig, axes = new_figure(12, 3.4, ncols=len(KPI_COUNTS))
    shown = result.months[: index + 1]
    for ax, kpi in zip(axes, KPI_COUNTS, strict=True):
        shade_phases(ax, months, result.phases, lang)
        ax.plot(range(len(shown)), [getattr(r, kpi) for r in shown], color=COLOURS[0], linewidth=2)
        for check in result.targets:
            if check.target.kpi != kpi or check.target.due_month not in months:
                continue
            x = months.index(check.target.due_month)
            colour = _STATUS_COLOUR[verdicts.status(check, months[index])]
            ax.plot([x], [check.target.low], marker="D", color=colour, markersize=8, linestyle="none")
            if check.target.high is not None:
                ax.vlines(x, check.target.low, check.target.high, color=colour, linewidth=2)
        now_line(ax, index)
        ax.set_title(t(kpi, lang), fontsize=10, pad=14)
        month_axis(ax, months)
        ax.set_ylim(bottom=0)
        ax.ticklabel_format(axis="y", style="plain")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    fig.suptitle(t("fig_kpis", lang), fontsize=11)
    return fig


def sectors_figure(result: RolloutResult, index: int, lang: str) -> Figure:
    """Transactions per day by sector, stacked, as sectors switch on phase by phase."""
    months = _months(result)
    fig, (ax,) = new_figure(6, 3.4)
    shade_phases(ax, months, result.phases, lang)
    names = sectors(result)
    shown = result.months[: index + 1]
    if names:
        series = [[r.tx_per_day_by_sector.get(s, 0) for r in shown] for s in names]
        ax.stackplot(
            range(len(shown)),
            series,
            labels=[name(s, lang) for s in names],
            colors=COLOURS[: len(names)] if len(names) <= len(COLOURS) else None,
        )
        ax.legend(loc="upper left", fontsize=7)
    now_line(ax, index)
    month_axis(ax, months)
    ax.set_ylabel(t("tx_per_day", lang))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.set_title(t("fig_sectors", lang), fontsize=10, pad=14)
    return fig


def waits_figure(result: RolloutResult, index: int, lang: str) -> Figure:
    """Queue waits at recharge points (mean and 95th percentile) and at service windows."""
    months = _months(result)
    fig, (ax,) = new_figure(6, 3.4)
    shade_phases(ax, months, result.phases, lang)
    shown = result.months[: index + 1]
    xs = range(len(shown))
    ax.plot(xs, [r.recharge_wait_s_mean for r in shown], color=COLOURS[0], label=t("wait_mean", lang))
    ax.plot(xs, [r.recharge_wait_s_p95 for r in shown], color=COLOURS[3], label=t("wait_p95", lang))
    ax.plot(xs, [r.window_wait_s_mean for r in shown], color=COLOURS[2], label=t("window_wait", lang))
    now_line(ax, index)
    month_axis(ax, months)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(t("seconds", lang))
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(t("fig_waits", lang), fontsize=10, pad=14)
    return fig


def float_figure(result: RolloutResult, index: int, lang: str) -> Figure:
    """The float (沉淀资金) and the operator's cumulative cash, in million CNY."""
    months = _months(result)
    fig, (ax,) = new_figure(6, 3.4)
    shade_phases(ax, months, result.phases, lang)
    shown = result.months[: index + 1]
    xs = range(len(shown))
    ax.plot(xs, [r.float_fen / 1e8 for r in shown], color=COLOURS[0], linewidth=2, label=t("float", lang))
    ax.plot(
        xs,
        [r.cash_cumulative_fen / 1e8 for r in shown],
        color=COLOURS[1],
        label=t("cash_cumulative", lang),
    )
    ax.axhline(0, color="#333333", linewidth=0.5)
    now_line(ax, index)
    month_axis(ax, months)
    ax.set_ylabel(t("million_yuan", lang))
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(t("fig_float", lang), fontsize=10, pad=14)
    return fig


def money_figure(result: RolloutResult, index: int, lang: str) -> Figure:
    """Fees and float income per month, and the current month's net T+1 positions."""
    months = _months(result)
    fig, (ax, pos) = new_figure(12, 3.4, ncols=2)
    shade_phases(ax, months, result.phases, lang)
    shown = result.months[: index + 1]
    xs = range(len(shown))
    fees = [r.fees_fen / 100 for r in shown]
    income = [r.float_income_fen / 100 for r in shown]
    ax.bar(xs, fees, color=COLOURS[0], label=t("fees", lang))
    ax.bar(xs, income, bottom=fees, color=COLOURS[2], label=t("float_income", lang))
    now_line(ax, index)
    month_axis(ax, months)
    ax.set_ylabel(t("yuan", lang))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(t("fig_money", lang), fontsize=10, pad=14)
    row = result.months[index]
    items = sorted(settle.month_positions(result, index).items(), key=lambda kv: kv[1])
    ys = range(len(items))
    pos.barh(ys, [v / 100 for _, v in items], color=[MET if v >= 0 else MISSED for _, v in items])
    pos.set_yticks(list(ys), [name(k, lang) for k, _ in items], fontsize=7)
    pos.axvline(0, color="#333333", linewidth=0.5)
    pos.xaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    pos.set_xlabel(f"{t('yuan', lang)}  (+ {t('receives', lang)}, − {t('pays', lang)})")
    pos.set_title(f"{t('fig_positions', lang)} ({row.month})", fontsize=10, pad=14)
    return fig
