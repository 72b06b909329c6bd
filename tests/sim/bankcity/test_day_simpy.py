"""The bank-card day as SimPy processes: cardholders queue at tills sized by the sample, EC
unloads (圈提) move the card's whole EC balance back to its account, and the day still clears,
settles and conserves money."""

from __future__ import annotations

from datetime import datetime

import pytest
import simpy

from devices.bankcard_state import BankCardState
from scenarios.bank_schema import load_bank_city
from sim.bankcity.day import play_day, run_day
from sim.bankcity.draws import Payment, Unload
from sim.bankcity.places import SERVICE_S, Places
from sim.bankcity.rollout import acceptance_of
from sim.bankcity.world import build_world
from sim.rollout.plan import plan_months

WHEN = datetime(2014, 6, 15)


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return load_bank_city("huaibei-2011-2014", {"run.cardholders_simulated": 20, "run.replications": 2})


def test_unloads_take_the_whole_ec_balance_back_to_the_account(city) -> None:  # type: ignore[no-untyped-def]
    world = build_world(city, 5)
    on_cards = sum(world.ec_on_cards_fen().values())
    accounts = sum(sum(i.accounts_fen.values()) for i in world.issuers.values())
    holders = list(range(0, 20, 3))
    before = {h: BankCardState.from_image(world.images[h]).ec_balance_fen for h in holders}
    day = play_day(city, world, WHEN, 5, [], [Unload(36_000.0 + h, h) for h in holders])
    nonzero = [h for h in holders if before[h]]
    assert day.unloads == len(nonzero) > 3
    assert day.unloads_fen == sum(before.values()) > 0
    assert all(BankCardState.from_image(world.images[h]).ec_balance_fen == 0 for h in holders)
    assert sum(world.ec_on_cards_fen().values()) == on_cards - day.unloads_fen
    assert sum(sum(i.accounts_fen.values()) for i in world.issuers.values()) == accounts + day.unloads_fen
    assert world.money_fen() == world.initial_fen
    assert all(i.ec_float_fen == world.ec_on_cards_fen()[b] and not i.holds for b, i in world.issuers.items())


def test_two_holders_at_one_till_queue_one_behind_the_other(city) -> None:  # type: ignore[no-untyped-def]
    schools = next(ch for ch in city.channel if ch.sector == "schools")  # the third party's readers
    assert Places(simpy.Environment(), city).capacity("qpboc", "third-party") == 1  # 20 holders
    world = build_world(city, 6)
    pays = [Payment(36_000.0, 1, schools, 300), Payment(36_000.0, 2, schools, 400)]
    day = play_day(city, world, WHEN, 6, pays, [])
    assert day.waits["contactless"] == [0.0, SERVICE_S["contactless"]]
    assert day.tx["contactless"] == 2 and day.fen["contactless"] == 700
    lines = world.acquirers["third-party"].close_file()
    times = sorted(line.record.when for line in lines)
    assert (times[1] - times[0]).total_seconds() == SERVICE_S["contactless"]
    assert (times[0] - WHEN).total_seconds() == 36_000.0 + SERVICE_S["contactless"]


def test_a_day_with_unloads_in_its_mix_settles_to_zero_and_repeats(city) -> None:  # type: ignore[no-untyped-def]
    busy = load_bank_city(
        "huaibei-2011-2014",
        {"run.cardholders_simulated": 20, "run.replications": 2, "cards.ec_unloads_per_holder_per_day": 0.5},
    )
    plan = next(p for p in plan_months(busy.plan_scenario) if p.month == "2014-06")
    a = run_day(busy, plan.month, plan.sectors, acceptance_of(busy, plan), seed=4)
    b = run_day(busy, plan.month, plan.sectors, acceptance_of(busy, plan), seed=4)
    assert a.violations == () and a.unloads > 0 and a.unloads_fen > 0
    assert sum(a.settlement_fen.values()) == 0
    assert (a.tx_by_channel, a.unloads_fen, a.loads_fen, a.fees_fen, a.wait_s_p95_by_till) == (
        b.tx_by_channel, b.unloads_fen, b.loads_fen, b.fees_fen, b.wait_s_p95_by_till,
    )  # fmt: skip
    assert set(a.wait_s_mean_by_till) >= {"bank-pos", "contactless", "unload"}
    assert all(0 <= a.wait_s_mean_by_till[k] <= a.wait_s_p95_by_till[k] for k in a.wait_s_mean_by_till)
