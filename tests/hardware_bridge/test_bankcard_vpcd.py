"""The PBOC bank card through the real PC/SC stack: pyscard -> pcscd -> vpcd -> the served
`BankCardOS`. The bank terminals, the acquirer, the switch and the issuer run unchanged over a
`PcscChannel`: an online purchase, an EC load and offline purchase, a qPBOC tap with fDDA, a
load whose PUT DATA answer vpcd loses (recovered exactly), and `cardtwin card info` reading the
served card's public data and EC balance."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from devices.bankcard_os import BankCardOS
from devices.bankcard_state import personalise, pin_block
from devices.card_os import PowerLost
from hardware_bridge.bankcard_serve import BANK_ATR
from hardware_bridge.pcsc_channel import PcscChannel, list_readers
from hardware_bridge.vpcd import TearPhase, VpcdServer
from model.bankcard import (
    Acquirer,
    BankPos,
    EcLoadTerminal,
    IssuerHost,
    IssuerMasterKeys,
    QpbocReader,
    Switch,
)
from model.bankcard.info import read_bank_card
from model.errors import TransactionTornError
from tests.model.bankcard.oda_kit import ca_keys, oda_for

READER_0 = "Virtual PCD 00 00"
REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
KEYS = IssuerMasterKeys.generate(41, "CCB")
PAN = "6217007777888899"
NOW = datetime(2013, 10, 8, 18, 0)
EC_FEN, ACCOUNT_FEN = 3_000, 150_000
Serve = Callable[..., VpcdServer]


def bank_card(contactless: bool = False) -> BankCardOS:
    state = personalise(KEYS, PAN, 1, "2468", ec_balance_fen=EC_FEN)
    return BankCardOS(state, contactless=contactless, oda=oda_for(state))


def network() -> tuple[IssuerHost, Acquirer]:
    issuer = IssuerHost(KEYS)
    issuer.open_account(PAN, ACCOUNT_FEN)
    issuer.ec_float_fen = EC_FEN
    return issuer, Acquirer("acq", Switch({"CCB": issuer}, {"621700": "CCB"}))


def test_purchases_and_a_load_through_pcscd(serve: Serve) -> None:
    chip = bank_card()
    serve(chip, atr=BANK_ATR, power_lost=(PowerLost,))
    issuer, acquirer = network()
    with PcscChannel(READER_0) as card:
        assert any(r.atr == BANK_ATR for r in list_readers())
        online = BankPos("POS-HIL", acquirer, seed=1).purchase_online(card, 12_345, NOW, pin_block("2468"))
        EcLoadTerminal("EC-HIL", acquirer, seed=1).load(card, 5_000, NOW)
        offline = BankPos("POS-HIL", acquirer, seed=1, ca_keys=ca_keys()).purchase_ec(card, 800, NOW)  # type: ignore[arg-type]
    assert (online.kind, offline.kind) == ("online", "ec-offline")
    assert chip.state.ec_balance_fen == EC_FEN + 5_000 - 800
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - 12_345 - 5_000 and issuer.holds == {}


def test_a_qpboc_tap_with_fdda_through_pcscd(serve: Serve) -> None:
    chip = bank_card(contactless=True)
    serve(chip, atr=BANK_ATR, power_lost=(PowerLost,))
    issuer, acquirer = network()
    reader = QpbocReader("BUS-HIL", acquirer, seed=2, ca_keys=ca_keys())  # type: ignore[arg-type]
    with PcscChannel(READER_0) as card:
        record = reader.purchase(card, 200, NOW)
    assert record.kind == "ec-offline" and reader.fdda_not_done == 0
    assert chip.state.ec_balance_fen == EC_FEN - 200
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    assert issuer.tc_verifies(PAN, 1, record.atc, record.cryptogram, data)


def test_a_load_whose_script_answer_vpcd_loses_is_recovered_exactly(serve: Serve) -> None:
    chip = bank_card()
    server = serve(chip, atr=BANK_ATR, power_lost=(PowerLost,))
    issuer, acquirer = network()
    kiosk = EcLoadTerminal("EC-HIL", acquirer, seed=3)
    server.tear_next(lambda apdu: apdu[:2] == b"\x04\xda", TearPhase.AFTER)  # the script ran, its answer lost
    with PcscChannel(READER_0) as card:
        try:
            kiosk.load(card, 4_000, NOW)
        except TransactionTornError:
            pass
        else:
            raise AssertionError("the PUT DATA answer was lost: the load must be torn")
    server.insert()
    with PcscChannel(READER_0) as card:
        assert kiosk.recover(card) is True  # the card applied the script: confirmed
    assert chip.state.ec_balance_fen == EC_FEN + 4_000 and issuer.holds == {}
    assert issuer.accounts_fen[PAN] == ACCOUNT_FEN - 4_000 and issuer.ec_float_fen == EC_FEN + 4_000


def test_card_info_reads_the_served_bank_card(serve: Serve) -> None:
    chip = bank_card()
    serve(chip, atr=BANK_ATR, power_lost=(PowerLost,))
    with PcscChannel(READER_0) as card:
        info = read_bank_card(card)
    assert (info.pan, info.ec_balance_fen, info.atc, info.kind) == (PAN, EC_FEN, 0, "debit")
    run = subprocess.run(
        [sys.executable, "-m", "sim", "card", "info", "--card", f"pcsc:{READER_0}"],
        capture_output=True, text=True, timeout=60, check=False, env=ENV,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("PBOC debit card 621700******8899 (PAN sequence 01")
    assert "EC balance: 30.00 CNY" in lines and "ATC 0, PIN tries left 3" in lines[1]
    assert "EC limits: balance 1000.00 CNY, single 500.00 CNY, reset threshold 100.00 CNY" in lines
    assert chip.state.atc == 0  # card info started no transaction


def test_card_serve_bank_then_card_info_through_vpcd(pcscd: object) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "card", "serve", "--bank", "--balance", "12.34", "--seconds", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("serving PBOC card 6222020000000000018 in reader")
        run = subprocess.run(
            [sys.executable, "-m", "sim", "card", "info", "--card", "vpcd"],
            capture_output=True, text=True, timeout=60, check=False, env=ENV,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[0].startswith("PBOC debit card 622202*********0018")
        assert "EC balance: 12.34 CNY" in run.stdout.splitlines()
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(10)


def test_card_serve_bank_refuses_what_a_bank_card_does_not_take() -> None:
    for args, message in (
        (["--bank", "--psam"], "--bank: a bank card takes neither --psam, --image nor --keys"),
        (["--bank", "--balance", "1000.01"], "--balance 1000.01: outside 0.00..1000.00"),
    ):
        run = subprocess.run(
            [sys.executable, "-m", "sim", "card", "serve", *args, "--seconds", "1"],
            capture_output=True, text=True, timeout=60, check=False, env=ENV,
        )  # fmt: skip
        assert run.returncode == 1 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1
