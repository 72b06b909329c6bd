"""The bank-card city scenario (`system = "bankcard"`): a rollout plan whose days run the
financial IC card world (issuing banks, a switch, acquirers, billers) instead of the e-purse.

A bank-card city file (`scenarios/bankcity/*.toml`) names its rollout plan (`plan`, a
`scenarios/rollout` file: adoption, phases, milestones, targets, finance, read by
`load_rollout`) and adds what the bank card world needs: the issuing banks with their BINs and
card mix, the cardholders' accounts and EC settings, one `[[channel]]` per sector a phase can
switch on (where and how a cardholder pays: bank POS, contactless, convenience terminals,
bills), the tariff (discount by merchant class, the biller fee) and the third-party acquirer's
agreement. Every table is strict (`scenarios.strict_tables`): an unknown key, a wrong unit or a
value out of range is one line naming file:line and field. `load_bank_city` reads a file (or a
shipped name) and its plan; `bank_city_for` finds the bank-card city of a plan file, which is
how `cardtwin rollout` dispatches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scenarios.rollout_loader import load_rollout
from scenarios.rollout_schema import SECTORS, RolloutScenario
from scenarios.schema import ScenarioError
from scenarios.strict_tables import build, param
from scenarios.toml_source import apply_overrides, read_located, shown_path

BANKCITY_DIR = Path(__file__).resolve().parent / "bankcity"
SYSTEM = "bankcard"
CHANNELS = ("bank-pos", "contactless", "convenience", "bills")
MERCHANT_CLASSES = ("catering", "general", "supermarket", "transport", "utilities", "public")
ACQUIRERS = ("bank", "third-party")
BANKS_MAX = 32
SIMULATED_MAX = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BankRun:
    seed: int = param(1, unit="", doc="seed of every random stream (same seed, same result)")
    cardholders_simulated: int = param(
        300, unit="cardholders", doc="cardholders in each sample day", low=10, high=SIMULATED_MAX
    )
    replications: int = param(
        3, unit="days", doc="sample days per phase (seeds), for the interval", low=2, high=30
    )
    source: str = param("", unit="", doc="why these values", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuingBank:
    name: str = param(unit="", doc="the bank's short name", low=None)
    bin: str = param(unit="digits", doc="the BIN (PAN prefix) the switch routes to the bank", low=None)
    card_share: float = param(
        unit="share", doc="share of the city's co-branded cards the bank issues", high=1
    )
    source: str = param("", unit="", doc="seed-facts section or ASSUMPTION: why", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cards:
    account_fen_mean: int = param(unit="fen", doc="mean balance of a cardholder's bank account (exponential)")
    ec_balance_fen_mean: int = param(
        0,
        unit="fen",
        doc="mean EC balance on a card at the day's start (uniform 0..2x mean, within the limit)",
    )
    ec_balance_limit_fen: int = param(100_000, unit="fen", doc="EC balance limit 9F77", high=100_000)
    ec_single_limit_fen: int = param(50_000, unit="fen", doc="EC single-transaction limit 9F78", high=100_000)
    ec_reset_threshold_fen: int = param(10_000, unit="fen", doc="EC reset threshold 9F6D: below it, a load")
    ec_load_fen: int = param(
        30_000, unit="fen", doc="what a cardholder loads (圈存) when below the threshold", low=1
    )
    ec_unloads_per_holder_per_day: float = param(
        0.0,
        unit="per cardholder per day",
        doc="EC unloads (圈提): the whole EC balance back to the account",
        high=1,
    )
    source: str = param("", unit="", doc="why these values", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    sector: str = param(
        unit="", doc="the plan's sector that switches this channel on", choices=tuple(SECTORS)
    )
    channel: str = param(unit="", doc="where the cardholder pays", choices=CHANNELS)
    tx_per_holder_per_day: float = param(
        unit="per cardholder per day", doc="payments at full acceptance", high=20
    )
    amount_fen_mean: int = param(unit="fen", doc="mean amount (exponential, at least 1 fen)", low=1)
    merchant_class: str = param(unit="", doc="the tariff's merchant class", choices=MERCHANT_CLASSES)
    acquirer: str = param(unit="", doc="who acquires: the banks, or the third party", choices=ACQUIRERS)
    source: str = param("", unit="", doc="seed-facts section or ASSUMPTION: why", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTariff:
    catering_bp: int = param(200, unit="bp", doc="discount rate of catering", high=10_000)
    general_bp: int = param(100, unit="bp", doc="discount rate of general merchants", high=10_000)
    supermarket_bp: int = param(50, unit="bp", doc="discount rate of supermarkets", high=10_000)
    transport_bp: int = param(0, unit="bp", doc="discount rate of transport", high=10_000)
    utilities_bp: int = param(0, unit="bp", doc="discount rate of utilities (billers)", high=10_000)
    public_bp: int = param(0, unit="bp", doc="discount rate of public services (schools)", high=10_000)
    biller_fee_fen: int = param(0, unit="fen", doc="what a biller pays the acquirer per bill", high=10_000)
    source: str = param("", unit="", doc="why these values", low=None)

    def discount_bp(self) -> dict[str, int]:
        return {c: getattr(self, f"{c}_bp") for c in MERCHANT_CLASSES}


@dataclass(frozen=True, slots=True, kw_only=True)
class ThirdPartyAcquirer:
    name: str = param("third-party", unit="", doc="the acquirer's name", low=None)
    partner: str = param("city-card", unit="", doc="who shares its income under the agreement", low=None)
    partner_bp: int = param(0, unit="bp", doc="the partner's share of the acquirer's income", high=10_000)
    terminal_fen: int = param(unit="fen", doc="what one convenience terminal costs the acquirer")
    terminal_opex_fen_per_month: int = param(0, unit="fen per month", doc="per terminal (lines, upkeep)")
    terminals_full: int = param(
        unit="terminals", doc="terminals at which its channels reach full acceptance", low=1
    )
    source: str = param("", unit="", doc="seed-facts section or ASSUMPTION: why", low=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankCity:
    system: str = param(unit="", doc='"bankcard": this file is a bank-card city', choices=(SYSTEM,))
    plan: str = param(unit="path", doc="the rollout plan (relative to this file)", low=None)
    run: BankRun = param(BankRun(), unit="", doc="[run]: seeds and sample")  # noqa: RUF009
    bank: tuple[IssuingBank, ...] = param(unit="", doc="[[bank]]: the issuing banks")
    cards: Cards = param(unit="", doc="[cards]: accounts and electronic cash")  # noqa: RUF009
    channel: tuple[Channel, ...] = param(unit="", doc="[[channel]]: how cardholders pay, by sector")
    tariff: BankTariff = param(BankTariff(), unit="", doc="[tariff]: discount and biller fee")  # noqa: RUF009
    acquirer: ThirdPartyAcquirer = param(unit="", doc="[acquirer]: the third party, its agreement")  # noqa: RUF009
    source: str = "<memory>"
    rollout: RolloutScenario | None = None  # the plan, loaded

    @property
    def plan_scenario(self) -> RolloutScenario:
        assert self.rollout is not None, "built by load_bank_city"
        return self.rollout

    @property
    def name(self) -> str:
        return self.plan_scenario.name


def shipped_bank_cities() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BANKCITY_DIR.glob("*.toml"))}


def load_bank_city(path: str | Path, overrides: Mapping[str, object] | None = None) -> BankCity:
    """Read and check a bank-card city and its plan. An override whose first name is one of the
    city's tables (`run`, `bank`, `cards`, `channel`, `tariff`, `acquirer`) changes the city;
    any other (`adoption.imitation_q`, `phase.phase-1.end_month`) changes the plan."""
    p = Path(path)
    if not p.exists() and str(path) in shipped_bank_cities():
        p = shipped_bank_cities()[str(path)]
    if not p.is_file():
        raise ScenarioError(f"{path}:1: no such bank-card city (shipped: {', '.join(shipped_bank_cities())})")
    located = read_located(p)
    tables = {f.name for f in dataclasses.fields(BankCity) if f.metadata}
    own = {k: v for k, v in (overrides or {}).items() if k.split(".")[0] in tables}
    plan_overrides = {k: v for k, v in (overrides or {}).items() if k not in own}
    if own:
        apply_overrides(located, own)
    city: BankCity = build(BankCity, located)
    _check(city, located.at(("bank",)))
    plan = load_rollout((p.parent / city.plan).resolve(), plan_overrides)
    _check_sectors(city, plan, located.at(("channel",)))
    return dataclasses.replace(city, source=shown_path(p), rollout=plan)


def _check(city: BankCity, where: str) -> None:
    if not 1 <= len(city.bank) <= BANKS_MAX:
        raise ScenarioError(f"{where}: bank: {len(city.bank)} banks (allowed: 1..{BANKS_MAX})")
    names, bins = [b.name for b in city.bank], [b.bin for b in city.bank]
    if len(set(names)) != len(names) or len(set(bins)) != len(bins):
        raise ScenarioError(f"{where}: bank: a bank name or BIN is given twice")
    bad = [b.bin for b in city.bank if not (b.bin.isdigit() and 6 <= len(b.bin) <= 8)]
    if bad:
        raise ScenarioError(f"{where}: bank.bin: {bad[0]!r} is not a 6-8 digit BIN")
    total = sum(b.card_share for b in city.bank)
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"{where}: bank.card_share: the shares sum to {total:.4f}, not 1")
    c = city.cards
    if (
        not c.ec_balance_fen_mean <= c.ec_balance_limit_fen
        or not c.ec_single_limit_fen <= c.ec_balance_limit_fen
    ):
        raise ScenarioError(
            f"{where}: cards: the EC balance and single limit must be within ec_balance_limit_fen"
        )
    if c.ec_reset_threshold_fen + c.ec_load_fen > c.ec_balance_limit_fen:
        raise ScenarioError(
            f"{where}: cards: ec_reset_threshold_fen + ec_load_fen exceeds ec_balance_limit_fen"
        )


def _check_sectors(city: BankCity, plan: RolloutScenario, where: str) -> None:
    in_plan = {s for phase in plan.phase for s in phase.sectors}
    unused = [ch.sector for ch in city.channel if ch.sector not in in_plan]
    if unused:
        raise ScenarioError(f"{where}: channel.sector: {unused[0]!r} is switched on by no phase of the plan")


def bank_city_for(plan_path: str | Path) -> Path | None:
    """The shipped bank-card city whose plan is `plan_path`, or None: how `cardtwin rollout`
    knows a plan runs on the bank card world (the city file says `system = "bankcard"`)."""
    target = Path(plan_path).resolve()
    for path in shipped_bank_cities().values():
        located = read_located(path)
        doc = located.doc
        if doc.get("system") == SYSTEM and (path.parent / str(doc.get("plan", ""))).resolve() == target:
            return path
    return None
