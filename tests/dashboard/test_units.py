"""Unit tests of the dashboard's plain modules: i18n, playback, tables and figure builders.

The figures are drawn from a small hand-built `RolloutResult` (two phases over 30 months, a
five-node city); the app itself only ever shows real rollout runs (tests/dashboard/test_app.py).
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from matplotlib.image import imread

from dashboard import (
    charts_flows,
    coverage,
    downloads,
    frames,
    i18n,
    params,
    participants,
    playback,
    runner,
    settle,
)
from scenarios.rollout_loader import shipped
from scenarios.schema import ScenarioError
from sim.rollout.result import (
    KPI_COUNTS,
    CityMap,
    Flow,
    MonthRow,
    Phase,
    RolloutResult,
    Site,
    Target,
    TargetCheck,
)


def _month(i: int) -> str:
    return f"{2009 + i // 12}-{i % 12 + 1:02d}"


def _month_row(i: int, n: int) -> MonthRow:
    """Month i of n: phase 2 (bus and retail) from the thirteenth month; figures grow linearly."""
    sectors = ("bus",) if i < 12 else ("bus", "retail")
    return MonthRow(
        month=_month(i),
        phase="phase 1" if i < 12 else "phase 2",
        cardholders=10_000 * (i + 1),
        cards_issued_in_month=10_000,
        issuance_limited_by="windows",
        service_windows=2 + i // 10,
        recharge_points=5 + i,
        terminals=100 + 20 * i,
        terminals_by_kind={"bus": 100 + 10 * i} | ({"pos": 10 * i} if i >= 12 else {}),
        sectors=sectors,
        coverage_share=min(1.0, 0.1 + i / n),
        tx_per_day_by_sector={s: 1000 * (i + 1) for s in sectors},
        card_spending_fen=1_000_000 * (i + 1),
        loads_fen=1_100_000 * (i + 1),
        float_fen=5_000_000 * (i + 1),
        fees_fen=20_000 * (i + 1),
        float_income_fen=5_000 * (i + 1),
        revenue_fen=25_000 * (i + 1),
        investment_fen=500_000 if i < 6 else 0,
        opex_fen=10_000,
        cash_cumulative_fen=-3_000_000 + 150_000 * i,
        recharge_wait_s_mean=60.0 - i,
        recharge_wait_s_p95=240.0 - 3 * i,
        window_wait_s_mean=300.0 - 5 * i,
        settlement_fen_by_participant={
            "operator": 1000,
            "bus-co": 5000 * i,
            "bank-a": -1000 - 5000 * i,
        },
        representative_day=i % 6 == 0,
    )


def small_result(n: int = 30) -> RolloutResult:
    phases = (
        Phase("phase 1", _month(0), _month(11), ("bus",)),
        Phase("phase 2", _month(12), _month(n - 1), ("bus", "retail")),
    )
    months = tuple(_month_row(i, n) for i in range(n))
    targets = (
        TargetCheck(Target("cardholders", _month(11), 100_000), 120_000, True, 20_000),
        TargetCheck(Target("terminals", _month(23), 700, 800), 560, False, -140),
        TargetCheck(Target("recharge_points", _month(29), 30), 34, True, 4),
    )
    nodes = {f"n{k}": (float(k), float(k % 2)) for k in range(5)}
    city = CityMap(
        positions_km=nodes,
        edges=(("n0", "n1", "bus"), ("n1", "n2", "metro"), ("n2", "n3", "walk"), ("n3", "n4", "bus")),
        residents={k: 1000 * (i + 1) for i, k in enumerate(nodes)},
    )
    sites = (
        Site("n0", "recharge_point", 2, _month(0)),
        Site("n3", "service_window", 1, _month(5)),
        Site("n4", "recharge_point", 1, _month(20)),
        Site("n2", "bus", 40, _month(0)),
    )
    flows = (
        Flow("bank-a", "operator", 9_000_000),
        Flow("operator", "bus-co", 7_500_000),
        Flow("bus-co", "operator", 100_000),
    )
    return RolloutResult(
        scenario="small",
        source="<hand-built>",
        seed=1,
        sample=0.01,
        phases=phases,
        months=months,
        targets=targets,
        sites=sites,
        city=city,
        flows=flows,
        payback_month=None,
    )


def test_every_label_has_both_languages() -> None:
    for key, entry in i18n.LABELS.items():
        assert set(entry) == set(i18n.LANGS), key
        assert all(entry[lang].strip() for lang in i18n.LANGS), key
    assert i18n.t("next_target", "zh", v="1,000", m="2010-01") == "目标 1,000（2010-01）"
    assert i18n.name("bus", "zh") == "公交"
    assert i18n.name("bank-a", "zh") == "银行 a"  # a role translated, its owner a code
    assert i18n.name("load-ICBC", "zh") == "充值银行 ICBC"
    assert i18n.name("bus-hz", "zh") == "公交公司 杭州"
    assert i18n.name("pilot", "zh") == "试点" and i18n.name("pilot", "en") == "pilot"
    assert i18n.name("no-such", "zh") == "no-such"
    with pytest.raises(KeyError):
        i18n.t("no-such-label", "en")
    with pytest.raises(AssertionError):
        i18n.t("run", "fr")


def test_playback_controls() -> None:
    pb = playback.start(24)
    assert (pb.index, pb.playing) == (0, False)
    pb = playback.play(pb, now_s=100.0)
    assert playback.tick(pb, now_s=100.1, interval_s=1.0) == pb  # too early: no skip
    pb = playback.tick(pb, now_s=101.0, interval_s=1.0)
    assert (pb.index, pb.playing) == (1, True)
    pb = playback.pause(pb)
    assert playback.tick(pb, now_s=200.0, interval_s=1.0).index == 1  # paused: time does not move it
    pb = playback.step(pb, 5)
    assert (pb.index, pb.playing) == (6, False)
    pb = playback.step(pb, -10)
    assert pb.index == 0
    pb = playback.seek(playback.set_stride(pb, 12), 20, now_s=0.0)
    pb = playback.play(pb, now_s=0.0)
    pb = playback.tick(pb, now_s=1.0, interval_s=1.0)
    assert (pb.index, pb.playing) == (23, False)  # clamped at the end, and stops there
    pb = playback.play(pb, now_s=5.0)
    assert (pb.index, pb.playing) == (0, True)  # play at the end starts again
    assert playback.resize(pb, 10).index == 0
    assert playback.resize(playback.step(pb, 15), 10).index == 9
    with pytest.raises(AssertionError):
        playback.Playback(length=3, index=3)
    with pytest.raises(AssertionError):
        playback.set_stride(pb, 5)


def test_frames() -> None:
    r = small_result()
    months = frames.months_frame(r)
    assert len(months) == 30
    assert months["tx_per_day.retail"].tolist()[:12] == [0] * 12  # not yet switched on
    assert months.loc[29, "settlement_fen.bank-a"] == -1000 - 5000 * 29
    early = frames.targets_frame(r, _month(5), "en")
    assert early["Status"].tolist() == ["● not due yet"] * 3
    assert early["Actual"].tolist() == [""] * 3  # not known before the due month
    late = frames.targets_frame(r, _month(29), "zh")
    assert late["状态"].tolist() == ["● 达成", "● 未达成", "● 达成"]
    assert late["目标"].tolist() == ["10.0 万张", "700 台 – 800 台", "30 个"]
    assert late["实际"].tolist() == ["12.0 万张", "560 台", "34 个"]
    assert late["完成率"].tolist() == ["120%", "80%", "113%"]
    nxt = frames.next_target(r, "terminals", _month(12))
    assert nxt is not None and nxt.target.due_month == _month(23)
    assert frames.next_target(r, "cardholders", _month(12)) is None
    assert frames.sectors(r) == ["bus", "retail"]
    assert frames.last_month_figures(r)["cardholders"] == 300_000
    cmp = frames.compare_frame(r, small_result(24), "en")
    row = cmp[cmp["Figure"] == "Cardholders"].iloc[0]
    assert (row["A"], row["B"], row["B − A"]) == ("300,000", "240,000", "-60,000")
    row = cmp[cmp["Figure"] == "Float"].iloc[0]
    # 150M fen is CNY 1.5M, never 150,000,000 under a CNY heading
    assert (row["A"], row["B − A"]) == ("CNY 1.50M", "CNY -300,000")
    assert frames.compare_frame(r, small_result(24), "zh").iloc[4]["A"] == "150 万元"
    row = cmp[cmp["Figure"] == "Coverage"].iloc[0]
    assert (row["A"], row["B − A"]) == ("100.0%", "+0.0%")
    assert frames.flows_frame(r.flows)["amount_fen"].sum() == 16_600_000
    shown = frames.flows_table(r.flows, "zh")
    assert shown["金额"].tolist() == ["9.00 万元", "7.50 万元", "1,000 元"]
    assert shown["付款方"].tolist()[1] == "运营方"
    # month 3: bank-a loads 3.3M fen, bus-co accepts 3M less 60k of fees, the reserve keeps 300k
    positions = frames.positions_frame(settle.month_positions(r, 2), "en")
    assert positions["Participant"].tolist() == ["bus-co", "reserve", "operator", "bank-a"]
    assert positions["Net position"].tolist() == ["CNY 29,400", "CNY 3,000", "CNY 600", "CNY -33,000"]


def test_coverage_and_sites_follow_the_month() -> None:
    r = small_result()
    early = coverage.open_sites(r.sites, _month(4))
    assert {s.node for s in early} == {"n0", "n2"}
    # n0's recharge point covers only n0: its neighbours are reached by bus, not on foot
    assert coverage.covered_nodes(r.city, early, 0.8) == {"n0"}
    late = coverage.open_sites(r.sites, _month(29))
    # n4's point (opened in month 20) reaches nothing on foot either; windows cover no one
    assert coverage.covered_nodes(r.city, late, 0.8) == {"n0", "n4"}
    # a walk edge n2-n3 of 1.41 km: a point at n2 covers n3 from 1.5 km on
    walker = (Site("n2", "recharge_point", 1, _month(0)),)
    assert coverage.covered_nodes(r.city, walker, 1.4) == {"n2"}
    assert coverage.covered_nodes(r.city, walker, 1.5) == {"n2", "n3"}
    assert coverage.covered_nodes(r.city, (), 1.5) == set()


CAST = participants.Cast("small", "", ("a",), acquirer=False)


def test_flows_chart_carries_the_flows_in_cny() -> None:
    r = small_result()
    data, spec = charts_flows.flows_chart(r.flows, "en")
    flows = data[data["layer"] == "flow"]
    assert flows["amount_yuan"].tolist() == [f.amount_fen / 100 for f in r.flows]  # CNY from fen
    assert flows["amount"].tolist() == ["CNY 90,000", "CNY 75,000", "CNY 1,000"]
    assert flows[["payer", "payee"]].values.tolist() == [[f.payer, f.payee] for f in r.flows]
    parties = data[data["layer"] == "party"]
    assert sorted(parties["label"]) == ["bank-a", "bus-co", "operator"]
    # opposite flows of one pair (operator <-> bus-co) are drawn apart, each pointing its way
    there, back = flows.iloc[1], flows.iloc[2]
    assert (there["x"], there["y"]) != (back["x2"], back["y2"])
    assert abs((there["angle"] - back["angle"]) % 360 - 180) < 1e-6
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "point", "text", "circle", "text"]


def test_the_reserve_sits_at_the_centre_of_the_flows() -> None:
    flows = (Flow("load-a", "reserve", 5), Flow("reserve", "bus-co", 3), Flow("reserve", "operator", 2))
    pos = charts_flows.layout(flows)
    assert pos["reserve"] == (0.0, 0.0)
    assert all(abs(x * x + y * y - 1) < 1e-9 for k, (x, y) in pos.items() if k != "reserve")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_figures_render(lang: str) -> None:
    """Every download figure is the page's chart with the run's data inside, rendered to pixels."""
    r = small_result()
    specs = downloads.figure_specs(r, lang, 0.8, CAST)
    assert set(specs) == set(downloads.FIGURES)
    for key, spec in specs.items():
        png = downloads.to_png(spec)
        pixels = imread(io.BytesIO(png))
        assert pixels.shape[0] > 200 and pixels.std() > 0.01, key  # something was drawn
        json.dumps(spec)  # one self-contained document: its data inside, no NaN
    float_values = [
        v["value"] for v in specs["float"]["data"]["values"] if v["series"] == i18n.t("float", lang)
    ]
    assert float_values == [row.float_fen / 100 for row in r.months]  # CNY from fen, the whole run
    kpis = specs["kpis"]["hconcat"]
    assert [k["title"] for k in kpis] == [i18n.t(k, lang) for k in KPI_COUNTS]
    cardholders = [v["value"] for v in kpis[0]["data"]["values"] if v["status"] == ""]
    assert cardholders == [float(row.cardholders) for row in r.months]
    flows = [v for v in specs["flows"]["data"]["values"] if v["layer"] == "flow"]
    shown = participants.regroup(r.flows, CAST)  # bank-a and bus-co: no names of this cast's own
    assert [v["amount_yuan"] for v in flows] == [f.amount_fen / 100 for f in shown]
    assert sum(v["amount_yuan"] for v in flows) == sum(f.amount_fen for f in r.flows) / 100


def test_downloads_are_whole_files() -> None:
    r = small_result()
    files = downloads.files(r, "zh", 0.8, CAST)
    by_name = {name: (label, data, mime) for label, name, data, mime in files}
    assert set(by_name) == {
        "months.csv",
        "targets.csv",
        "flows.csv",
        "sites.csv",
        "report.html",
        "results.zip",
    } | {f"{k}.png" for k in downloads.FIGURES}
    flows_csv = by_name["flows.csv"][1].decode()
    assert "role:bus" in flows_csv and "bus-co" not in flows_csv  # the page's parties, not the day's ids
    assert sum(int(line.rsplit(",", 1)[1]) for line in flows_csv.splitlines()[1:]) == 16_600_000
    months_csv = by_name["months.csv"][1].decode().splitlines()
    assert len(months_csv) == 31 and months_csv[0].startswith("month,phase,cardholders")
    assert all(by_name[f"{k}.png"][1].startswith(b"\x89PNG") for k in downloads.FIGURES)
    report = by_name["report.html"][1].decode()
    assert report.count("data:image/png;base64,") == len(downloads.FIGURES)
    assert "未达成" in report and report.rstrip().endswith("</html>")
    with zipfile.ZipFile(io.BytesIO(by_name["results.zip"][1])) as archive:
        names = set(archive.namelist())
    assert {"small/report.html", "small/months.csv", "small/rollout.sqlite"} <= names, names


def test_run_cache_keys_on_the_resolved_scenario() -> None:
    path = shipped()["hangzhou-2004-2009"]
    base = runner.load(path)
    same = runner.load(path, {})
    other = runner.load(path, {"adoption.imitation_q": 0.2})
    assert runner.fingerprint(base, 1, 0.001) == runner.fingerprint(same, 1, 0.001)
    assert runner.fingerprint(base, 1, 0.001) != runner.fingerprint(other, 1, 0.001)
    assert runner.fingerprint(base, 1, 0.001) != runner.fingerprint(base, 2, 0.001)
    assert runner.fingerprint(base, 1, 0.001) != runner.fingerprint(base, 1, 0.002)
    cache = runner.RunCache(entries=2)
    r = small_result()
    cache.put("a", r)
    cache.put("b", r)
    assert cache.get("a") is r  # now the most recent
    cache.put("c", r)
    assert cache.get("b") is None and cache.get("a") is r and len(cache) == 2


def test_params_resolve_and_overrides() -> None:
    s = runner.load(shipped()["hangzhou-2004-2009"])
    found = {p.dotted: value for p, value in params.available(s)}
    assert found.keys() == {p.dotted for p in params.PARAMS}
    assert found["adoption.imitation_q"] == s.adoption.imitation_q
    assert found["deployment.placement"] in params.PLACEMENTS
    edited = dict(found, **{"deployment.terminals_factor": 1.5})
    assert params.overrides(found, edited) == {"deployment.terminals_factor": 1.5}
    assert params.overrides(found, found) == {}
    changed = runner.load(shipped()["hangzhou-2004-2009"], params.overrides(found, edited))
    assert changed.deployment.terminals_factor == 1.5


def test_uploads_keep_sessions_apart_and_refuse_oversize() -> None:
    folder = runner.UploadFolder()
    try:
        text = shipped()["hangzhou-2004-2009"].read_bytes()
        a = folder.write("mine.toml", text)
        b = folder.write("mine.toml", text.replace(b"imitation_q", b"no_such_key", 1))
        assert a != b and a.read_bytes() == text
        assert runner.load(a).name == "hangzhou-2004-2009"  # its relative references resolve
        with pytest.raises(ScenarioError) as bad:
            runner.load(b)
        assert folder.shown(str(bad.value)).startswith("mine.toml:"), folder.shown(str(bad.value))
        with pytest.raises(ScenarioError, match="more than"):
            folder.write("big.toml", b"#" * (runner.UPLOAD_BYTES_MAX + 1))
    finally:
        folder.close()
    assert not folder.root.exists()


def test_the_map_draws_rail_only_where_the_scenario_has_it() -> None:
    from dataclasses import replace

    from dashboard import charts_city

    def drawn(r: RolloutResult) -> set[str]:
        data, _ = charts_city.city_chart(r, 5, "en", 0.8, CAST)
        return set(data[data["layer"] == "line"]["what"])

    r = small_result()  # bus and retail only, on a city graph with one metro edge
    assert drawn(r) == {"bus"}
    with_metro = replace(r, phases=(replace(r.phases[0], sectors=("bus", "metro")), r.phases[1]))
    assert drawn(with_metro) == {"bus", "metro"}
