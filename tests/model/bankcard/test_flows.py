"""Bank card flows end to end through the real kernel, issuer host and simulated card: online
purchase, EC offline purchase, EC load; then a power cut at every APDU boundary (before and after
the card processed it), recovered with no fen created, lost or doubled."""

from __future__ import annotations

from datetime import datetime

import pytest

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise, pin_block
from devices.card_os import TearPhase
from devices.sim_channel import SimChannel
from model.bankcard import (
    BankPos,
    BankTerminalError,
    EcLoadTerminal,
    IssuerHost,
    IssuerMasterKeys,
    application_cryptogram,
    card_key,
    cvr_of,
    session_key,
)
from model.errors import CardStatusError, LoadDeclinedError, TransactionTornError
from tests.model.bankcard.kit import Cut

KEYS = IssuerMasterKeys.generate(11, "CCB")
PAN = "6217001234567890"
NOW = datetime(2013, 5, 9, 8, 30)
ACCOUNT_FEN = 200_000
EC_FEN = 3_000


def world(cut: Cut | None = None) -> tuple[SimChannel, BankCardOS, IssuerHost]:
    chip = BankCardOS(personalise(KEYS, PAN, 2, "9876", ec_balance_fen=EC_FEN), tear_hook=cut)
    issuer = IssuerHost(KEYS)
    issuer.open_account(PAN, ACCOUNT_FEN)
    return SimChannel(chip), chip, issuer


def money(chip: BankCardOS, issuer: IssuerHost) -> int:
    return chip.state.ec_balance_fen + issuer.total_fen()


def test_online_purchase_end_to_end() -> None:
    card, chip, issuer = world()
    pos = BankPos("POS-0001", issuer, seed=1)
    record = pos.purchase_online(card, 45_678, NOW, pin_block("9876"))
    assert (record.kind, record.amount_fen, record.atc, record.pan_sequence) == ("online", 45_678, 1, 2)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - 45_678 and issuer.purchases_due_fen == 45_678
    assert issuer.holds == {} and chip.state.ec_balance_fen == EC_FEN
    # the TC verifies at the issuer over CDOL1 || CDOL2 data, AIP, ATC and the CVR
    sk = session_key(card_key(KEYS.mk_ac, PAN, 2), record.atc)
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + cvr_of(record.iad)
    assert application_cryptogram(sk, data) == record.cryptogram
    assert cvr_of(record.iad) == bytes.fromhex("03600400")  # 1st ARQC, 2nd TC, offline PIN verified


def test_online_purchase_declines_for_funds_and_a_wrong_pin() -> None:
    card, chip, issuer = world()
    pos = BankPos("POS-0001", issuer, seed=1)
    with pytest.raises(LoadDeclinedError, match="issuer answered 51"):
        pos.purchase_online(card, ACCOUNT_FEN + 1, NOW)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN and issuer.holds == {}
    with pytest.raises(CardStatusError, match="VERIFY: card answered 63C2"):
        pos.purchase_online(card, 100, NOW, pin_block("1111"))
    assert chip.state.pin_tries_left == 2


def test_a_forged_arqc_is_declined_and_the_card_gives_aac() -> None:
    card, chip, _ = world()
    other = IssuerHost(IssuerMasterKeys.generate(12, "CCB"))  # another bank's keys
    other.open_account(PAN, ACCOUNT_FEN)
    with pytest.raises(LoadDeclinedError, match="issuer answered 05"):
        BankPos("POS-0002", other, seed=1).purchase_online(card, 100, NOW)
    assert other.accounts_fen[PAN] == ACCOUNT_FEN and other.holds == {}
    assert chip.state.atc == 1 and chip.state.ec_balance_fen == EC_FEN


def test_ec_offline_purchase_and_its_online_fallback() -> None:
    card, chip, issuer = world()
    pos = BankPos("POS-0003", issuer, seed=2)
    record = pos.purchase_ec(card, 1_200, NOW)
    assert (record.kind, record.amount_fen) == ("ec-offline", 1_200)
    assert chip.state.ec_balance_fen == EC_FEN - 1_200 and issuer.accounts_fen[PAN] == ACCOUNT_FEN
    sk = session_key(card_key(KEYS.mk_ac, PAN, 2), record.atc)
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + cvr_of(record.iad)
    assert application_cryptogram(sk, data) == record.cryptogram
    above = pos.purchase_ec(card, EC_FEN, NOW)  # more than the EC balance left: online
    assert above.kind == "online" and chip.state.ec_balance_fen == EC_FEN - 1_200
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - EC_FEN


def test_ec_load_end_to_end() -> None:
    card, chip, issuer = world()
    kiosk = EcLoadTerminal("EC-0001", issuer, seed=3)
    total = money(chip, issuer)
    record = kiosk.load(card, 5_000, NOW)
    assert record.kind == "ec-load" and chip.state.ec_balance_fen == EC_FEN + 5_000
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - 5_000 and issuer.ec_float_fen == 5_000
    assert issuer.holds == {} and kiosk.pending == {}
    assert money(chip, issuer) == total + 5_000  # the float counts the card's new money once...
    assert chip.state.ec_balance_fen + sum(issuer.accounts_fen.values()) == EC_FEN + ACCOUNT_FEN  # ...moved


def test_ec_load_over_the_balance_limit_is_declined_before_any_debit() -> None:
    card, chip, issuer = world()
    with pytest.raises(LoadDeclinedError, match="issuer answered 61"):
        EcLoadTerminal("EC-0001", issuer, seed=3).load(card, 100_000 - EC_FEN + 1, NOW)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN and chip.state.ec_balance_fen == EC_FEN


def clean_apdu_count(run: str) -> int:
    cut = Cut()
    card, _, issuer = world(cut)
    if run == "load":
        EcLoadTerminal("EC-0001", issuer, seed=3).load(card, 5_000, NOW)
    elif run == "ec":
        BankPos("POS-0003", issuer, seed=2).purchase_ec(card, 1_200, NOW)
    else:
        BankPos("POS-0003", issuer, seed=2).purchase_online(card, 4_500, NOW)
    return cut.seen


LOAD_APDUS = clean_apdu_count("load")
EC_APDUS = clean_apdu_count("ec")
ONLINE_APDUS = clean_apdu_count("online")


def test_the_flows_have_the_apdus_we_think() -> None:
    # SELECT PSE, READ PSE 1, READ PSE 2 (6A83), SELECT AID, GPO, READ 1, READ 2, then per flow
    assert (LOAD_APDUS, EC_APDUS, ONLINE_APDUS) == (7 + 5, 7 + 3, 7 + 2)


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(LOAD_APDUS))
def test_a_torn_ec_load_is_recovered_exactly(at: int, phase: TearPhase) -> None:
    cut = Cut(at, phase)
    card, chip, issuer = world(cut)
    kiosk = EcLoadTerminal("EC-0001", issuer, seed=3)
    with pytest.raises(TransactionTornError):
        kiosk.load(card, 5_000, NOW)
    card.insert()
    outcome = kiosk.recover(card)
    assert issuer.holds == {} and kiosk.pending == {}
    loaded = chip.state.ec_balance_fen - EC_FEN
    assert loaded in (0, 5_000)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - loaded and issuer.ec_float_fen == loaded
    assert outcome is (None if at < LOAD_APDUS - 2 else loaded == 5_000)  # pending from the 2nd AC on
    # only a PUT DATA that reached the card loads: the last APDU, or after it committed
    assert loaded == (5_000 if (at, phase) == (LOAD_APDUS - 1, TearPhase.AFTER_COMMIT) else 0)
    if loaded == 0:  # the cardholder loads again, once
        kiosk.load(card, 5_000, NOW)
        assert chip.state.ec_balance_fen == EC_FEN + 5_000 and issuer.accounts_fen[PAN] == ACCOUNT_FEN - 5_000


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(EC_APDUS))
def test_a_torn_ec_purchase_is_recorded_once_or_not_at_all(at: int, phase: TearPhase) -> None:
    cut = Cut(at, phase)
    card, chip, issuer = world(cut)
    pos = BankPos("POS-0003", issuer, seed=2)
    with pytest.raises(TransactionTornError):
        pos.purchase_ec(card, 1_200, NOW)
    card.insert()
    record = pos.recover(card)
    spent = EC_FEN - chip.state.ec_balance_fen
    assert spent == (1_200 if (at, phase) == (EC_APDUS - 1, TearPhase.AFTER_COMMIT) else 0)
    assert pos.pending == {} and issuer.accounts_fen[PAN] == ACCOUNT_FEN
    if spent == 0:
        assert record is None
        return
    assert record is not None and record.recovered and record.amount_fen == spent
    # the card's offline proof gave the TC back: the issuer verifies it like any other
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + cvr_of(record.iad)
    assert issuer.tc_verifies(PAN, 2, record.atc, record.cryptogram, data)


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(ONLINE_APDUS))
def test_a_torn_online_purchase_is_reversed(at: int, phase: TearPhase) -> None:
    cut = Cut(at, phase)
    card, _, issuer = world(cut)
    with pytest.raises(TransactionTornError):
        BankPos("POS-0003", issuer, seed=2).purchase_online(card, 4_500, NOW)
    assert issuer.holds == {} and issuer.accounts_fen[PAN] == ACCOUNT_FEN and issuer.purchases_due_fen == 0


def test_recover_refuses_a_card_used_elsewhere_meanwhile() -> None:
    cut = Cut(LOAD_APDUS - 1, TearPhase.BEFORE_COMMIT)
    card, _, issuer = world(cut)
    kiosk = EcLoadTerminal("EC-0001", issuer, seed=3)
    with pytest.raises(TransactionTornError):
        kiosk.load(card, 5_000, NOW)
    card.insert()
    BankPos("POS-0009", issuer, seed=4).purchase_ec(card, 100, NOW)  # another terminal: ATC + 1
    with pytest.raises(BankTerminalError, match="moved from ATC 1 to 2"):
        kiosk.recover(card)
    assert len(issuer.holds) == 1 and PAN in kiosk.pending  # held for the issuer's day-end


def test_ec_unload_returns_the_whole_balance_to_the_account() -> None:
    card, chip, issuer = world()
    kiosk = EcLoadTerminal("EC-0001", issuer, seed=3)
    kiosk.load(card, 5_000, NOW)  # through the issuer, so its EC float holds the card's 5000
    issuer.ec_float_fen += EC_FEN  # the personalised 3000 was funded at issuance
    total = issuer.total_fen() + chip.state.ec_balance_fen
    record = kiosk.unload(card, NOW)
    assert (record.kind, record.amount_fen) == ("ec-unload", EC_FEN + 5_000)
    assert chip.state.ec_balance_fen == 0 and issuer.ec_float_fen == 0 and issuer.holds == {}
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - 5_000 + EC_FEN + 5_000
    assert issuer.total_fen() + chip.state.ec_balance_fen == total - (EC_FEN + 5_000)  # off the float
    with pytest.raises(BankTerminalError, match="nothing to unload"):
        kiosk.unload(card, NOW)


def unload_apdu_count() -> int:
    cut = Cut()
    card, _, issuer = world(cut)
    issuer.ec_float_fen = EC_FEN
    EcLoadTerminal("EC-0001", issuer, seed=3).unload(card, NOW)
    return cut.seen


UNLOAD_APDUS = unload_apdu_count()


def test_the_unload_reads_the_balance_first() -> None:
    assert UNLOAD_APDUS == 4 + 1 + LOAD_APDUS  # selection and GET DATA 9F79, then as a load


@pytest.mark.parametrize("phase", list(TearPhase))
@pytest.mark.parametrize("at", range(UNLOAD_APDUS))
def test_a_torn_ec_unload_is_recovered_exactly(at: int, phase: TearPhase) -> None:
    card, chip, issuer = world(Cut(at, phase))
    issuer.ec_float_fen = EC_FEN
    kiosk = EcLoadTerminal("EC-0001", issuer, seed=3)
    with pytest.raises(TransactionTornError):
        kiosk.unload(card, NOW)
    card.insert()
    kiosk.recover(card)
    assert issuer.holds == {} and kiosk.pending == {}
    unloaded = EC_FEN - chip.state.ec_balance_fen
    assert unloaded == (EC_FEN if (at, phase) == (UNLOAD_APDUS - 1, TearPhase.AFTER_COMMIT) else 0)
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN + unloaded and issuer.ec_float_fen == EC_FEN - unloaded
