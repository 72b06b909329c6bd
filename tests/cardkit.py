"""Small helpers the card tests share: send raw APDUs, snapshot what must not change."""

from __future__ import annotations

from devices.card_os import CardOS
from devices.card_state import CardState
from model.card.apdu import parse_response


def send(card: CardOS, raw: bytes) -> tuple[bytes, int]:
    return parse_response(card.process(raw))


def money_state(state: CardState) -> tuple[object, ...]:
    """Everything a failed command must leave alone: balances, counters, log, CAPP, proofs."""
    return (
        state.ep_balance_fen,
        state.ed_balance_fen,
        state.ep_online_counter,
        state.ep_offline_counter,
        state.ed_online_counter,
        state.ed_offline_counter,
        state.log,
        state.capp,
        state.proof_load,
        state.proof_purchase,
    )
