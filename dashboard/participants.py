"""Who the page names: the participants of the scenario shown, never another city's.

A run's settlement positions are keyed by the day twin's participant ids, "role-owner":
`load-ICBC` (a bank's recharge points), `bus-hz` (Hangzhou's bus company), `shop-12` (a
merchant). The day twin builds them from its day scenario, so a rollout of another city on
Hangzhou's day (Huaibei's) carries Hangzhou's companies. The page names a participant only
when the scenario shown names it too: a bank in its banks list (the day scenario's, after the
rollout's `[day.city]` changes), a company of its own city (the city the scenario's name
begins with). Every other participant is shown by its role alone ("bus companies"), and the
page says plainly which roles the run has no participant of the scenario's own for. Flows
regrouped this way move the same money: the reserve's and every total are unchanged.

A plan that runs on the bank card world (`system = "bankcard"`, `scenarios.bank_schema`:
Huaibei) is cast from its bank-card city: its issuing banks (the city file's `[[bank]]`), its
third-party acquirer and the card network's switch. The bank card world's parties are
`issuer:<bank>`, `acquirer:acq:<bank>` (a bank acquiring its own merchants' POS),
`acquirer:<name>`, `partner:<name>`, `biller:<utility>`, `merchant:<n>` (shown as merchants)
and `switch`; `party` keeps each the cast names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dashboard.i18n import LABELS, check_lang, name, t
from scenarios.bank_schema import bank_city_for, load_bank_city
from scenarios.rollout_schema import RolloutScenario
from sim.rollout import Flow
from sim.rollout.sites import ACQUIRER, OPERATOR, RESERVE, UNNAMED_LOADS, UNNAMED_SPENDING

SYSTEM = (RESERVE, OPERATOR, ACQUIRER, UNNAMED_LOADS, UNNAMED_SPENDING)  # roles of every card system
# The city a participant id's owner code names, and the cities by the word a scenario's name
# starts with; a scenario of no real city (a plan, a template) names no city's companies.
CITY_CODES = {"hz": "hangzhou", "hb": "huaibei"}
CITY_NAMES = {"hangzhou": {"en": "Hangzhou", "zh": "杭州"}, "huaibei": {"en": "Huaibei", "zh": "淮北"}}
ROLES = {"bus": "role:bus", "metro": "role:metro", "taxi": "role:taxi", "window": "role:window"}
ROLES |= {"shop": "role:shop", "load": "role:load", "kiosk": "role:load", "hosp": "role:hosp"}
OTHER = "role:other"
# What a named company of a role is called: "Hangzhou bus company" / "杭州公交公司".
_COMPANY = {
    "bus": {"en": "{city} bus company", "zh": "{city}公交公司"},
    "metro": {"en": "{city} metro", "zh": "{city}地铁公司"},
    "taxi": {"en": "{city} taxi clearing", "zh": "{city}出租车清算"},
    "window": {"en": "{city} service windows", "zh": "{city}服务网点"},
}


@dataclass(frozen=True, slots=True)
class Cast:
    """The participants a scenario itself names: its city, its banks, whether it has an acquirer."""

    scenario: str
    city: str  # a key of CITY_NAMES, or "" for a scenario of no real city
    banks: tuple[str, ...]
    acquirer: bool
    acquirer_name: str = ""  # the bank card world's third-party acquirer (and its partner)
    partner: str = ""
    switch: bool = False  # the card network's switch (the bank card world)


def cast_of(scenario: RolloutScenario) -> Cast:
    city = next((c for c in CITY_NAMES if scenario.name.startswith(c)), "")
    bank_city = bank_city_for(scenario.source)
    if bank_city is not None:  # the plan runs on the bank card world: its banks, acquirer, switch
        c = load_bank_city(bank_city)
        return Cast(
            scenario=scenario.name,
            city=city,
            banks=tuple(b.name for b in c.bank),
            acquirer=True,
            acquirer_name=c.acquirer.name,
            partner=c.acquirer.partner,
            switch=True,
        )
    finance = scenario.finance
    return Cast(
        scenario=scenario.name,
        city=city,
        banks=tuple(scenario.day_scenario.city.banks),
        acquirer=finance.acquirer_fee_share > 0 or finance.acquirer_terminal_share > 0,
    )


def party(raw: str, cast: Cast) -> str:
    """The key the page shows for a run's participant id: the id itself when the scenario
    names that participant, else its role."""
    if raw in SYSTEM or raw.startswith("role:"):
        return raw
    if ":" in raw or raw == "switch":
        return _bank_party(raw, cast)
    role, _, owner = raw.partition("-")
    if role == "load" and owner in cast.banks:
        return raw
    if role in _COMPANY and cast.city and CITY_CODES.get(owner) == cast.city:
        return raw
    return ROLES.get(role, OTHER)


def _bank_party(raw: str, cast: Cast) -> str:
    """A bank card world's party: named when the cast has it, else its role."""
    if raw == "switch":
        return raw if cast.switch else OTHER
    kind, _, owner = raw.partition(":")
    if kind == "issuer":
        return raw if owner in cast.banks else "role:issuer"
    if kind == "acquirer" and owner.startswith("acq:"):
        return raw if owner[4:] in cast.banks else "role:issuer"
    if kind == "acquirer":
        return raw if owner == cast.acquirer_name else ACQUIRER
    if kind == "partner":
        return raw if owner == cast.partner else OTHER
    if kind == "biller":  # the city's utilities ([HB] phase 1), named in every bank card world
        return raw if cast.switch else OTHER
    return ROLES["shop"] if kind == "merchant" else OTHER


def regroup(flows: tuple[Flow, ...], cast: Cast) -> tuple[Flow, ...]:
    """The flows between the parties the page shows; pairs that merge add up."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for f in flows:
        payer, payee = party(f.payer, cast), party(f.payee, cast)
        assert payer != payee, f  # a role never pays itself: loads go to the reserve, spending from it
        totals[(payer, payee)] += f.amount_fen
    out = tuple(Flow(a, b, v) for (a, b), v in sorted(totals.items()))
    assert sum(f.amount_fen for f in out) == sum(f.amount_fen for f in flows)  # no fen lost or made
    return out


def shown(key: str, lang: str) -> str:
    """A party as the page names it: a role, a bank's recharge points, a company of the city."""
    check_lang(lang)
    if key in LABELS:
        return t(key, lang)
    kind, colon, owner = key.partition(":")
    if colon and kind in ("issuer", "acquirer", "partner", "biller"):
        if owner.startswith("acq:"):
            return t("bank_acquiring", lang, bank=name(owner[4:], lang))
        return t(f"bank_{kind}", lang, who=name(owner, lang))
    role, _, owner = key.partition("-")
    if role == "load" and owner:
        return t("bank_points", lang, bank=name(owner, lang))
    if role in _COMPANY and owner in CITY_CODES:
        return _COMPANY[role][lang].format(city=CITY_NAMES[CITY_CODES[owner]][lang])
    return name(key, lang)  # a key `party` did not make (a hand-built run): its own name


def unnamed_roles(flows: tuple[Flow, ...], cast: Cast) -> list[str]:
    """The roles (keys) the run's flows carry no participant of the scenario's own for."""
    seen = {party(p, cast) for f in flows for p in (f.payer, f.payee)}
    # merchants and medical institutions are anonymous in every scenario (shop-N, hosp-N): a
    # role, not a missing name
    anonymous = (ROLES["shop"], ROLES["hosp"])
    return sorted(k for k in seen if k.startswith("role:") and k not in anonymous)


def notes(flows: tuple[Flow, ...], cast: Cast, lang: str) -> list[str]:
    """What the page says about its participants: roles shown without names, banks without loads."""
    sep = "、" if lang == "zh" else ", "
    out = []
    roles = unnamed_roles(flows, cast)
    if roles:
        out.append(t("cast_unnamed", lang, roles=sep.join(t(r, lang) for r in roles)))
    loaded = {f.payer.partition("-")[2] for f in flows if f.payer.startswith("load-")}
    paying = sep.join(name(b, lang) for b in sorted(loaded & set(cast.banks))) or t("none", lang)
    if cast.banks:
        banks = sep.join(name(b, lang) for b in cast.banks)
        out.append(t("cast_banks", lang, banks=banks, paying=paying))
    return out
