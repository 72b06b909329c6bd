"""Simulated cards taken through PC/SC tap after tap in one reader give the same money as the
same taps in process: the groundwork of "real cards in the loop" for the city twin."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.sim_channel import SimChannel
from hardware_bridge.latency import LatencyChannel
from hardware_bridge.pcsc_channel import PcscChannel
from hardware_bridge.vpcd import VpcdServer
from model.card.channel import CardChannel
from model.records.record import verify_tac
from model.security.keys import IssuerKeys, IssuerKeyStore
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal

MOMENT = datetime(2026, 11, 23, 7, 0, 0)
TAPS = (  # (card, kind, amount_fen)
    (0, "load", 5_000),
    (1, "load", 2_000),
    (0, "purchase", 180),
    (2, "load", 1_000),
    (1, "purchase", 200),
    (2, "purchase", 450),
    (0, "purchase", 300),
)


def _cards(factory: CardFactory) -> list[CardOS]:
    return [
        CardOS(
            factory.personalise(CardProfile(asn=(0x3301_0000_0000 + n).to_bytes(8, "big"))),
            rng=random.Random(n),
        )
        for n in range(3)
    ]


def _day(
    cards: list[CardOS], tap: Callable[[CardOS], CardChannel], loader: LoadTerminal, pos: PurchaseTerminal
) -> list[int]:
    for step, (who, kind, amount) in enumerate(TAPS):
        channel = tap(cards[who])
        moment = MOMENT + timedelta(minutes=step)
        if kind == "load":
            loader.load(channel, amount, moment)
        else:
            pos.purchase(channel, amount, moment)
    return [card.state.ep_balance_fen for card in cards]


def test_served_cards_give_the_same_money_as_in_process(
    serve: Callable[..., VpcdServer],
    factory: CardFactory,
    issuer_keys: IssuerKeys,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
) -> None:
    keys = IssuerKeyStore(issuer_keys)
    local_cards = _cards(factory)
    local = _day(local_cards, SimChannel, load_terminal, purchase_terminal)

    served_cards = _cards(factory)
    loader = LoadTerminal(load_terminal.terminal_id, load_terminal.host)
    pos = PurchaseTerminal(purchase_terminal.psam)
    server = serve(served_cards[0])
    with PcscChannel("Virtual PCD 00 00") as pcsc:
        timed = LatencyChannel(pcsc)

        def tap(card: CardOS) -> CardChannel:
            # A tap: the previous card leaves the field, this one enters, a new session starts.
            pcsc.disconnect()
            if server.chip is not card:
                server.present(card)
            pcsc.connect()
            return timed

        served = _day(served_cards, tap, loader, pos)
    assert served == local == [5_000 - 180 - 300, 2_000 - 200, 1_000 - 450]
    assert sum(r.amount_fen for r in loader.journal.records()) == 8_000

    # Same transactions record for record (the TACs differ: the PSAM's serial went on).
    def book(terminal: LoadTerminal | PurchaseTerminal) -> list[tuple[bytes, int, int, int]]:
        return [(r.asn, r.counter, r.amount_fen, r.balance_after_fen) for r in terminal.journal.records()]

    assert book(pos) == book(purchase_terminal) and book(loader) == book(load_terminal)
    assert all(verify_tac(r, keys) for r in (*pos.journal.records(), *loader.journal.records()))
    assert timed.stats.count >= 3 * len(TAPS) and timed.stats.max_s > 0  # SELECT, INITIALIZE, commit
