"""The PC/SC channel through the real stack: pyscard -> pcscd -> vpcd -> our vpcd server -> a chip.

Nothing here is mocked: pcscd runs (session fixture), the vpcd driver inside it talks TCP to
`VpcdServer`, and `PcscChannel` talks to pcscd with pyscard.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from smartcard import scard

from devices.card_os import CardOS, PowerLost, TearPhase
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from hardware_bridge.errors import GarbageResponseError, NoCardError, PcscError, ReaderNotFoundError
from hardware_bridge.pcsc_channel import PcscChannel, PcscContext, list_readers
from hardware_bridge.trace import ApduTrace
from hardware_bridge.vpcd import TearPhase as VpcdTearPhase
from hardware_bridge.vpcd import VpcdServer
from model.card import commands
from model.card.access import get_balance, read_card, select_epurse
from model.card.apdu import parse_response
from model.errors import ApplicationNotFoundError, CardRemovedError, TransactionTornError
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from model.terminal.recovery import RecoveryOutcome

READER_0, READER_1 = "Virtual PCD 00 00", "Virtual PCD 00 01"
MOMENT = datetime(2026, 11, 23, 8, 30, 0)
REPO = Path(__file__).resolve().parents[2]
# This worktree's code (as CI's clone runs its own): `python -m sim` with the repository first.
CLI = [sys.executable, "-m", "sim"]
CLI_SHELL = f"PYTHONPATH={REPO} {sys.executable} -m sim"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

Serve = Callable[..., VpcdServer]
MakeCard = Callable[..., tuple[CardOS, SimChannel]]


class T0Chip:
    """A chip as a T=0 card shows it: response data only through GET RESPONSE (61xx), at most
    `chunk` bytes per GET RESPONSE, so long answers take several rounds."""

    def __init__(self, inner: CardOS, chunk: int = 16) -> None:
        self.inner = inner
        self.chunk = chunk
        self.waiting = b""
        self.get_responses = 0

    def power_on(self) -> None:
        self.waiting = b""
        self.inner.power_on()

    def process(self, raw: bytes) -> bytes:
        if raw[:4] == b"\x00\xc0\x00\x00":
            self.get_responses += 1
            part, self.waiting = self.waiting[: self.chunk], self.waiting[self.chunk :]
            return part + (bytes((0x61, len(self.waiting))) if self.waiting else b"\x90\x00")
        response = self.inner.process(raw)
        if len(response) > 2 and response[-2:] == b"\x90\x00":
            self.waiting = response[:-2]
            return bytes((0x61, len(self.waiting)))
        return response


class FixedChip:
    """A broken chip (or reader) answering the same bytes to everything."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def power_on(self) -> None:
        pass

    def process(self, raw: bytes) -> bytes:
        return self.answer


def _card(make_card: MakeCard, balance_fen: int = 0, asn: int = 1) -> CardOS:
    card, _ = make_card(asn_int=asn)
    card.state.ep_balance_fen = balance_fen
    return card


def test_readers_and_a_served_card_are_listed(pcscd: object, serve: Serve, make_card: MakeCard) -> None:
    serve(_card(make_card))
    with PcscContext() as context:  # pcscd registers a new card at its next presence poll
        assert context.card_state(READER_0, timeout_s=3.0)[0]
    readers = {r.name: r for r in list_readers()}
    assert readers[READER_0].card_present and readers[READER_0].atr[:4] == bytes.fromhex("3B8C8001")
    assert not readers[READER_1].card_present


def test_pyscard_reads_the_served_card(serve: Serve, make_card: MakeCard, tmp_path: Path) -> None:
    card = _card(make_card, balance_fen=4_321)
    serve(card)
    with ApduTrace.open(tmp_path / "t.txt") as trace, PcscChannel(READER_0, trace=trace) as channel:
        info = read_card(channel)
        assert channel.active_protocol != 0 and channel.atr[:1] == b"\x3b"
    assert info.balance_fen == 4_321 and info.public.asn == card.state.asn
    assert "connected 'Virtual PCD 00 00' T=1" in (tmp_path / "t.txt").read_text()


def test_6cxx_is_resent_with_the_exact_le(serve: Serve, make_card: MakeCard, tmp_path: Path) -> None:
    card = _card(make_card)
    serve(card)
    with ApduTrace.open(tmp_path / "t.txt") as trace, PcscChannel(READER_0, trace=trace) as channel:
        select_epurse(channel)
        data, sw = parse_response(channel.transmit(commands.read_binary(0x15, 0, 40)))
    assert sw == 0x9000 and data == card.state.public  # 30 bytes although 40 were asked
    text = (tmp_path / "t.txt").read_text()
    assert "6C1E wrong Le, exact length 30" in text and "00B095001E" in text


def test_61xx_is_fetched_with_get_response(serve: Serve, make_card: MakeCard) -> None:
    chip = T0Chip(_card(make_card, balance_fen=777))
    serve(chip)
    with PcscChannel(READER_0) as channel:
        info = read_card(channel)
    assert info.balance_fen == 777 and info.public.asn == chip.inner.state.asn
    # The 47-byte FCI took three 16-byte rounds, the 4-byte balance one.
    assert chip.get_responses == 3 + 1


def test_endless_61xx_is_cut_off(serve: Serve) -> None:
    serve(FixedChip(b"\x61\x01"))
    with PcscChannel(READER_0) as channel, pytest.raises(GarbageResponseError, match="still 61xx after 32"):
        channel.transmit(commands.get_balance())


@pytest.mark.parametrize("answer", [b"\x90", b"\x12\x34", b"\x00\x00\x00"])
def test_a_reader_answering_garbage_is_a_clear_error(serve: Serve, answer: bytes) -> None:
    serve(FixedChip(answer))
    with PcscChannel(READER_0) as channel, pytest.raises(GarbageResponseError) as caught:
        channel.transmit(commands.select())
    message = str(caught.value)
    assert "\n" not in message and "SELECT" in message and "not a response APDU" in message
    assert answer.hex().upper() in message


def test_unknown_and_ambiguous_reader_names(pcscd: object) -> None:
    threads = threading.active_count()
    with pytest.raises(ReaderNotFoundError, match=r"'No Such Reader' matches none .*Virtual PCD 00 00"):
        PcscChannel("No Such Reader")
    with pytest.raises(ReaderNotFoundError, match="matches several"):
        PcscChannel("Virtual")
    with PcscChannel("PCD 00 01") as channel:
        assert channel.reader == READER_1  # a unique part of the name is enough
    assert threading.active_count() == threads  # failed and closed channels leave no thread


def test_no_card_in_the_reader(pcscd: object) -> None:
    with PcscChannel(READER_1, card_wait_s=0.3) as channel, pytest.raises(NoCardError, match="no card"):
        channel.transmit(commands.select())


def test_card_without_the_application(serve: Serve, psam: Psam) -> None:
    serve(psam)  # a chip, but not an e-purse: SELECT by AID answers 6A82
    with PcscChannel(READER_0) as channel, pytest.raises(ApplicationNotFoundError) as caught:
        read_card(channel)
    assert str(caught.value) == "SELECT e-purse: card answered 6A82 (file not found)"


def test_card_swap_reconnects_to_the_new_card(serve: Serve, make_card: MakeCard) -> None:
    first, second = _card(make_card, asn=1), _card(make_card, asn=2)
    server = serve(first)
    with PcscChannel(READER_0) as channel:
        assert read_card(channel).public.asn == first.state.asn
        server.present(second)
        with pytest.raises(CardRemovedError):  # the session with the first card is gone
            read_card(channel)
        assert read_card(channel).public.asn == second.state.asn
        assert channel.connections == 2


@pytest.mark.parametrize("phase", [VpcdTearPhase.AFTER, VpcdTearPhase.BEFORE])
def test_removal_mid_purchase_is_recovered_and_charged_once(
    serve: Serve, make_card: MakeCard, purchase_terminal: PurchaseTerminal, phase: VpcdTearPhase
) -> None:
    card = _card(make_card, balance_fen=1_000)
    server = serve(card)
    with PcscChannel(READER_0) as channel:
        server.tear_next(lambda c: c[:2] == b"\x80\x54", phase)
        with pytest.raises(TransactionTornError, match=r"DEBIT FOR PURCHASE .* no answer"):
            purchase_terminal.purchase(channel, 300, MOMENT)
        assert server.tears_done == 1 and not server.inserted
        assert card.state.ep_balance_fen == (700 if phase is VpcdTearPhase.AFTER else 1_000)
        server.insert()
        record = purchase_terminal.purchase(channel, 300, MOMENT)
        assert get_balance(channel) == 700 == card.state.ep_balance_fen
    assert len(purchase_terminal.journal) == 1 and len(purchase_terminal.pending) == 0
    outcome = RecoveryOutcome.COMMITTED if phase is VpcdTearPhase.AFTER else RecoveryOutcome.NOT_COMMITTED
    assert purchase_terminal.recoveries[outcome] == 1
    assert record.balance_after_fen == 700


def test_card_os_power_loss_through_vpcd_recovers_a_load(
    serve: Serve, make_card: MakeCard, load_terminal: LoadTerminal
) -> None:
    card = _card(make_card)
    # The card OS's own tear hook cuts power after committing CREDIT; the server drops the card.
    card.tear_hook = lambda raw, phase: phase is TearPhase.AFTER_COMMIT and raw[:2] == b"\x80\x52"
    server = serve(card, power_lost=(PowerLost,))
    with PcscChannel(READER_0) as channel:
        with pytest.raises(TransactionTornError):
            load_terminal.load(channel, 5_000, MOMENT)
        card.tear_hook = None
        server.insert()
        load_terminal.load(channel, 5_000, MOMENT)
        assert get_balance(channel) == 5_000
    assert load_terminal.host.confirmed_fen == 5_000 and load_terminal.host.open_authorisations == 0


def _reader_index(name: str) -> int:
    listing = subprocess.run(["opensc-tool", "-l"], capture_output=True, text=True, check=True, timeout=20)
    for line in listing.stdout.splitlines():
        if line.rstrip().endswith(name):
            return int(line.split()[0])
    raise AssertionError(f"opensc-tool does not list {name}:\n{listing.stdout}")


def test_opensc_tool_selects_and_reads_the_balance(serve: Serve, make_card: MakeCard) -> None:
    serve(_card(make_card, balance_fen=0x04D2))
    run = subprocess.run(
        [
            "opensc-tool",
            "-r",
            str(_reader_index(READER_0)),
            "-s",
            "00A4040008A000000632010105",
            "-s",
            "805C000204",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    answers = re.findall(
        r"Received \(SW1=0x([0-9A-F]{2}), SW2=0x([0-9A-F]{2})\)(?::\n([0-9A-F ]+))?", run.stdout
    )
    assert [a[:2] for a in answers] == [("90", "00"), ("90", "00")], run.stdout
    assert answers[0][2].startswith("6F 2D 84 08 A0 00 00 06 32 01 01 05")  # the FCI names our AID
    assert answers[1][2].split()[:4] == ["00", "00", "04", "D2"]  # 1234 fen


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**ENV, **(env or {})},
    )


def test_cli_without_pcscd_is_a_one_line_error(tmp_path: Path) -> None:
    # The PC/SC client library honours PCSCLITE_CSOCK_NAME: a socket no pcscd listens on.
    run = _cli("card", "list", env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "cardtwin: error: PC/SC: pcscd is not running (Service not available. [8010001D]); "
        "start it with `pcscd --foreground`"
    ]


def test_cli_errors_for_bad_readers_and_cards(serve: Serve, psam: Psam) -> None:
    unknown = _cli("card", "info", "--card", "pcsc:No Such Reader")
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) == 1
    assert "reader 'No Such Reader' matches none" in unknown.stderr
    empty = _cli("card", "info", "--card", f"pcsc:{READER_1}")
    assert empty.returncode == 1 and empty.stderr.strip().splitlines() == [
        f"cardtwin: error: reader '{READER_1}': no card (waited 3 s)"
    ]
    bad_source = _cli("card", "info", "--card", "usb:0")
    assert bad_source.returncode == 1 and "expected sim, vpcd[:N] or pcsc:READER-NAME" in bad_source.stderr
    serve(psam)
    no_app = _cli("card", "info", "--card", f"pcsc:{READER_0}")
    assert no_app.stderr.strip().splitlines() == [
        "cardtwin: error: SELECT e-purse: card answered 6A82 (file not found)"
    ]


def test_cli_garbage_is_a_one_line_error(serve: Serve) -> None:
    serve(FixedChip(b"\x42"))
    run = _cli("card", "info", "--card", f"pcsc:{READER_0}")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    assert "SELECT: answer 42 is not a response APDU" in run.stderr


def test_cli_card_list_info_and_trace(pcscd: object, tmp_path: Path) -> None:
    listing = _cli("card", "list")
    assert listing.returncode == 0 and f"{READER_1}\tno card" in listing.stdout
    info = _cli("card", "info", "--card", "vpcd:0")
    assert info.returncode == 0, info.stderr
    assert "card 3301202600000042" in info.stdout and "balance: 0.00 CNY" in info.stdout
    out = tmp_path / "trace.txt"
    traced = _cli(
        "card", "trace", "--card", "vpcd", "--out", str(out), "00A4040008A000000632010105", "805C000204"
    )
    assert traced.returncode == 0, traced.stderr
    assert "805C000204 -> 00000000 9000 (ok)" in traced.stdout
    assert "\tGET BALANCE\t805C000204" in out.read_text()
    not_hex = _cli("card", "trace", "--card", "sim", "--out", str(out), "zz")
    assert not_hex.returncode == 1 and "APDU #1 'zz': not hex" in not_hex.stderr


def test_a_card_removed_a_moment_ago_is_not_taken_for_a_served_one(serve: Serve, make_card: MakeCard) -> None:
    # `card info` then `card trace` in a new process: the first card's socket is closed, but pcscd
    # shows it present until its next poll (0.4 s); reusing that "card" failed every transmit.
    server = serve(make_card()[0])
    with PcscContext() as context:
        assert context.card_state(READER_0, 3.0)[0]
        assert context.card_stays(READER_0, 0.6)
        server.remove()
        started = time.monotonic()
        assert context.card_stays(READER_0, 2.0) is False
        assert time.monotonic() - started < 1.0
        assert context.card_stays(READER_0, 0.6) is False  # an empty reader: at once


def test_factory_cards_served_on_both_slots_at_once(serve: Serve, factory: CardFactory) -> None:
    cards = [CardOS(factory.personalise(CardProfile(asn=n.to_bytes(8, "big")))) for n in (5, 6)]
    for slot, card in enumerate(cards):
        serve(card, slot)
    for reader, card in zip((READER_0, READER_1), cards, strict=True):
        with PcscChannel(reader) as channel:
            assert read_card(channel).public.asn == card.state.asn


def test_bench_apdu_measures_both_paths(pcscd: object) -> None:
    run = _cli("bench", "apdu", "--count", "50", "--purchases", "5")
    assert run.returncode == 0, run.stderr
    *_, purchases, last = run.stdout.strip().splitlines()
    assert re.fullmatch(
        r"purchases=5 card_apdus_per_purchase=\d+\.\d pcsc_us_per_purchase=\d+ inprocess_us_per_purchase=\d+",
        purchases,
    ), purchases
    assert re.fullmatch(r"pcsc_us_per_apdu=\d+\.\d inprocess_us_per_apdu=\d+\.\d\d", last), last


class SlowOnceChip(FixedChip):
    """A chip that goes silent for `delay_s` on its first command, then answers normally."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(b"\x90\x00")
        self.delay_s = delay_s

    def process(self, raw: bytes) -> bytes:
        delay, self.delay_s = self.delay_s, 0.0
        time.sleep(delay)
        return self.answer


def test_a_silent_card_times_out_as_a_removal(serve: Serve) -> None:
    serve(SlowOnceChip(1.5))
    with PcscChannel(READER_0, transmit_timeout_s=0.3) as channel:
        with pytest.raises(CardRemovedError, match=r"SELECT: no answer within 0\.3 s"):
            channel.transmit(commands.select())
        assert channel.timeouts == 1 and not channel.connected
        channel.transmit_timeout_s = 5.0  # the reader is free again once the slow answer is in
        assert channel.transmit(commands.select()) == b"\x90\x00"
    with pytest.raises(PcscError, match="transmit timeout 0 s"):
        PcscChannel(READER_0, transmit_timeout_s=0)


def test_cli_card_serve_in_one_process_read_in_another(pcscd: object) -> None:
    server = subprocess.Popen(
        [*CLI, "card", "serve", "--slot", "1", "--balance", "5.00", "--seconds", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith(
            "serving card 3301202600000042 in reader 'Virtual PCD 00 01'"
        )
        info = _cli("card", "info", "--card", "pcsc:PCD 00 01")
        assert info.returncode == 0, info.stderr
        assert "balance: 5.00 CNY" in info.stdout
    finally:
        server.terminate()
        server.wait(10)


class CrashingChip(FixedChip):
    def process(self, raw: bytes) -> bytes:
        raise ZeroDivisionError("a bug in the chip")


def test_a_crashing_chip_answers_6f00_and_keeps_serving(serve: Serve) -> None:
    server = serve(CrashingChip(b""))
    with PcscChannel(READER_0) as channel:
        assert channel.transmit(commands.select()) == b"\x6f\x00"
        assert channel.transmit(commands.get_balance()) == b"\x6f\x00"
    assert server.inserted and server.chip_failures == 2 and not server.failure
    assert "ZeroDivisionError('a bug in the chip')" in server.chip_failure


def test_a_pcscd_without_readers_is_a_one_line_error(pcscd: object, tmp_path: Path) -> None:
    # A second, real pcscd with an empty reader configuration, in a private mount namespace so
    # that its /run/pcscd (socket, pid file) does not touch the session's pcscd.
    empty = tmp_path / "reader.conf.d"
    empty.mkdir()
    script = f"""
        mount -t tmpfs tmpfs /run/pcscd
        pcscd --foreground --config {empty} > {tmp_path / "pcscd.log"} 2>&1 &
        daemon=$!
        i=0
        while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        {CLI_SHELL} card list
        {CLI_SHELL} card info --card 'pcsc:Virtual PCD 00 00'
        rc=$?
        kill $daemon
        wait $daemon
        exit $rc
    """
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    run = subprocess.run(
        [*sudo, "unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.stdout.strip() == "no reader", run.stdout + run.stderr
    assert run.returncode == 1 and run.stderr.strip().splitlines() == [
        "cardtwin: error: PC/SC: pcscd runs but reports no reader (is a reader or vpcd configured?)"
    ]


def test_protocol_choice_t0_then_t1(serve: Serve, make_card: MakeCard) -> None:
    serve(_card(make_card))  # the ATR offers T=0 and T=1; the first connection fixes one
    with PcscChannel(READER_0, protocol="T0") as channel:
        select_epurse(channel)
        assert channel.active_protocol == scard.SCARD_PROTOCOL_T0
    with pytest.raises(PcscError, match="speaks none of the protocols asked for"):
        PcscChannel(READER_0, protocol="T1").connect()
    with pytest.raises(PcscError, match="protocol 'T2': one of T0, T1, any"):
        PcscChannel(READER_0, protocol="T2")
