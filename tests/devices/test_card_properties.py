"""Property tests: random APDU sequences against the card.

Whatever arrives (random bytes, valid commands with random fields, commands out of order,
power cuts), a command the card refuses never changes balances, counters, log, CAPP records or
proofs, and a command it accepts changes them only as a completed transaction: the balance moves
by exactly the logged amount and the matching counter by one.
"""

from __future__ import annotations

import random
from datetime import datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice.load_host import LoadHost
from model.card import commands
from model.card.files import CAPP_ID_METRO, SFI_CAPP, SFI_LOG, SFI_PUBLIC, CappRecord, LogEntry
from model.errors import CardTwinError
from model.security.keys import IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.cardkit import money_state, send

FACTORY = CardFactory(generate_issuer_keys(3, bytes.fromhex("3301000000000001")))
TID = bytes.fromhex("000000000101")
MOMENT = datetime(2026, 11, 23, 8, 30)
TERMINAL = PurchaseTerminal(
    SimChannel(Psam(TID, IssuerKeyStore(FACTORY.issuer_keys, frozenset({KeyUsage.PURCHASE}))))
)
LOADER = LoadTerminal(bytes.fromhex("000000000901"), LoadHost(IssuerKeyStore(FACTORY.issuer_keys)))

u8 = st.integers(0, 255)
amount = st.integers(0, 3_000)
date_time = st.sampled_from([bytes.fromhex("20261123083000"), bytes.fromhex("20401231235959"), bytes(7)])

structured = st.one_of(
    st.just(commands.select()),
    st.builds(lambda p: commands.verify_pin(p), st.sampled_from([b"\x12\x34\x56", b"\x00\x00", b"\x12"])),
    st.builds(commands.get_balance, st.sampled_from([1, 2, 3])),
    st.builds(
        lambda sfi, le: commands.read_binary(sfi, 0, le),
        st.sampled_from([SFI_PUBLIC, 0x16, 0x19]),
        st.integers(1, 256),
    ),
    st.builds(lambda rec: commands.read_record(SFI_LOG, rec), st.integers(0, 12)),
    st.builds(
        commands.initialize_for_load, st.sampled_from([1, 2]), st.sampled_from([1, 2]), amount, st.just(TID)
    ),
    st.builds(
        commands.initialize_for_purchase,
        st.sampled_from([1, 2]),
        st.sampled_from([1, 2]),
        amount,
        st.just(TID),
    ),
    st.builds(commands.initialize_for_capp_purchase, st.sampled_from([1, 2]), amount, st.just(TID)),
    st.builds(commands.credit_for_load, date_time, st.binary(min_size=4, max_size=4)),
    st.builds(commands.debit_for_purchase, st.integers(0, 5), date_time, st.binary(min_size=4, max_size=4)),
    st.builds(
        lambda rid: commands.update_capp_data_cache(
            SFI_CAPP, rid, CappRecord(CAPP_ID_METRO, True, 1, TID, None).encode()
        ),
        st.sampled_from([1, 2]),
    ),
    st.builds(commands.get_transaction_proof, st.sampled_from([2, 6, 9, 3]), st.integers(0, 3)),
    st.just(commands.get_challenge()),
    st.builds(commands.application_block, st.binary(min_size=4, max_size=4)),
    st.binary(max_size=40),
)


class CheckedCard:
    """A channel that checks the card's invariants around every single APDU."""

    def __init__(self, card: CardOS) -> None:
        self.card = card
        self.commits = 0

    def transmit(self, raw: bytes) -> bytes:
        state = self.card.state
        before = money_state(state)
        log_before = state.log
        response = self.card.process(raw)
        after = money_state(state)
        sw = int.from_bytes(response[-2:], "big")
        if sw != 0x9000:
            assert after == before, f"{raw.hex()} answered {sw:04X} yet changed the card"
            return response
        if after == before:
            return response
        # Only a committing command may change money state, and only as one logged transaction.
        assert raw[1] in (0x52, 0x54), f"{raw.hex()} changed money state"
        self.commits += 1
        assert state.log[1:] == log_before[: len(state.log) - 1]
        entry = LogEntry.decode(state.log[0])
        delta = (state.ep_balance_fen + state.ed_balance_fen) - (before[0] + before[1])  # type: ignore[operator]
        assert delta == (entry.amount_fen if entry.tx_type in (1, 2) else -entry.amount_fen)
        steps = [a - b for a, b in zip(after[2:6], before[2:6], strict=True)]  # type: ignore[operator]
        assert sorted(steps) == [0, 0, 0, 1]
        return response


terminal_step = st.tuples(st.sampled_from(["load", "buy", "metro-in", "metro-out"]), st.integers(1, 3_000))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(structured, terminal_step), max_size=25), st.integers(0, 2**32))
def test_random_apdu_sequences_keep_the_card_consistent(sequence: list[object], seed: int) -> None:
    state = FACTORY.personalise(CardProfile(asn=(1).to_bytes(8, "big")))
    state.ep_balance_fen = 2_000
    checked = CheckedCard(CardOS(state, rng=random.Random(seed)))
    journalled_fen = 0
    for step in sequence:
        if isinstance(step, bytes):
            checked.transmit(step)
            continue
        kind, amount_fen = step  # type: ignore[misc]
        try:
            if kind == "load":
                record = LOADER.load(checked, amount_fen, MOMENT)
            elif kind == "buy":
                record = TERMINAL.purchase(checked, amount_fen, MOMENT)
            elif kind == "metro-in":
                record = TERMINAL.composite_entry(checked, 1, MOMENT)
            else:
                record = TERMINAL.composite_exit(checked, 5, MOMENT, lambda e, s, t, fen=amount_fen: fen)
        except CardTwinError:
            continue
        journalled_fen += record.signed_amount_fen
    event(f"card commits: {min(checked.commits, 3)}+")
    assert state.ep_balance_fen + state.ed_balance_fen == 2_000 + journalled_fen
    assert state.ep_balance_fen + state.overdraft_limit_fen >= 0
    assert state.ep_balance_fen <= state.max_balance_fen


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_card_or_the_psam(raw: bytes) -> None:
    state = FACTORY.personalise(CardProfile(asn=bytes(8)))
    card = CardOS(state, rng=random.Random(0))
    send(card, commands.select())
    before = money_state(state)
    response = card.process(raw)
    assert len(response) >= 2
    if response[-2:] != b"\x90\x00":
        assert money_state(state) == before
    psam = Psam(TID, IssuerKeyStore(FACTORY.issuer_keys))
    psam.process(commands.psam_select())
    assert len(psam.process(raw)) >= 2
