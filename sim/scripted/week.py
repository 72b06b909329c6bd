"""A week of a small city's card traffic through the real card code, cleared every morning.

Citizens load their cards (cash at a service window, or from an ICBC account through the bank
load host), ride buses, take the metro (composite entry/exit), taxis, shop and pay utilities;
one loses a card (hotlist, replacement with its shadow balance), one refunds and closes. Every
transaction runs the real terminal code against a simulated card and PSAM. Terminals upload
their journals each evening as batch files; the clearing house ingests them next morning and
the T+1 settlement runs.

The week also injects, on fixed days, every fault the clearing house must catch: a garbage
file, a duplicated upload, an out-of-order upload, a forged TAC, a record re-sent with its card
counter re-encoded (a reused PSAM serial), a torn purchase recovered
without proof, a lost card used after its hotlist took effect (at a validator that missed the
list), a batch from an unregistered terminal, a truncated and a bit-flipped batch (both
re-uploaded whole later), an upload later than the cut-off, and a PSAM serial spent by a card
that failed. At the end a reviewer releases what may be released. Same seed, same week.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from devices.card_os import CardOS, TearPhase
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import (
    RELEASABLE,
    Bank,
    BankFunding,
    IngestReport,
    LoadHost,
    Participant,
    Reason,
    Registry,
    Sector,
    SettlementReport,
    TerminalEntry,
    record_key,
)
from model.errors import CardStatusError, TransactionTornError
from model.records import NO_PSAM, RECORD_SIZE, TransactionRecord, write_batch
from model.security import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys, write_issuer_keys
from model.terminal import LoadTerminal, PurchaseTerminal
from sim.day import BackOffice
from sim.scripted.fares import BUS_FARE_FEN, metro_fare

WEEK_START = date(2026, 11, 16)
WEEK_DAYS = 7
ISSUER_ID = bytes.fromhex("3301000000000001")
LOAD_FEN = 5_000
LOW_BALANCE_FEN = 1_500
CITIZENS_MIN = 8
LOST = 1  # the citizen whose card is lost on day 2 and replaced on day 4
CLOSER = 2  # the citizen who refunds and closes on day 5

PARTICIPANTS = [
    Participant("bus-hz", "Hangzhou Public Transport", Sector.BUS, "ICBC"),
    Participant("metro-hz", "Hangzhou Metro", Sector.METRO, "BOC"),
    Participant("taxi-hz", "Hangzhou Taxi Co-op", Sector.TAXI, "CCB"),
    Participant("shop-hz", "Wulin Department Store", Sector.RETAIL, "ABC"),
    Participant("water-hz", "Hangzhou Water", Sector.UTILITIES, "ICBC"),
    Participant("window-hz", "Citizen card service windows", Sector.LOAD, "HZB"),
    Participant("icbc-load", "ICBC bank-account loads", Sector.LOAD, "ICBC"),
    Participant("transfer-hz", "Card replacement transfers", Sector.TRANSFER, "HZB"),
]


def _tid(suffix: str) -> bytes:
    return bytes.fromhex("33010000" + suffix)


BUSES = [_tid("0201"), _tid("0202"), _tid("0203")]
GATES = [_tid("0301"), _tid("0302"), _tid("0303"), _tid("0304")]
TAXI, POS, UTIL, ROGUE = _tid("0401"), _tid("0501"), _tid("0601"), _tid("0599")
WINDOW, ICBC_KIOSK, TRANSFER_WINDOW = _tid("0901"), _tid("0902"), _tid("0903")
_OWNERS = {
    **dict.fromkeys(BUSES, "bus-hz"),
    **dict.fromkeys(GATES, "metro-hz"),
    TAXI: "taxi-hz",
    POS: "shop-hz",
    UTIL: "water-hz",
}


def week_registry() -> Registry:
    """The registry at the start of the week (the rogue POS is not in it)."""
    terminals = [TerminalEntry(t, t, p) for t, p in _OWNERS.items()]
    terminals += [
        TerminalEntry(WINDOW, NO_PSAM, "window-hz"),
        TerminalEntry(ICBC_KIOSK, NO_PSAM, "icbc-load"),
        TerminalEntry(TRANSFER_WINDOW, NO_PSAM, "transfer-hz"),
    ]
    return Registry(list(PARTICIPANTS), terminals)


@dataclass(slots=True)
class Citizen:
    number: int
    asn: bytes
    card: CardOS
    channel: SimChannel
    bank_account: str | None
    retired_cards: list[CardOS] = field(default_factory=list)
    closed: bool = False


@dataclass(slots=True)
class Upload:
    clear_on: date
    name: str
    raw: bytes


class CityWeek:
    """The city, its back office and its week; `run()` plays it, the fields hold the outcome."""

    def __init__(self, db_path: Path | str, seed: int = 1, citizens: int = 24, cutoff_days: int = 3) -> None:
        if citizens < CITIZENS_MIN:
            raise ValueError(f"city week: at least {CITIZENS_MIN} citizens (the fault script needs them)")
        self.seed = seed
        self.rng = random.Random(seed)
        self.keys: IssuerKeys = generate_issuer_keys(seed, ISSUER_ID)
        self.registry = week_registry()
        self.office = BackOffice.open(db_path, self.registry, self.keys, cutoff_days=cutoff_days)
        self.factory = CardFactory(self.keys)
        psam_keys = IssuerKeyStore(self.keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
        self.purchase: dict[bytes, PurchaseTerminal] = {
            t: PurchaseTerminal(SimChannel(Psam(t, psam_keys))) for t in [*_OWNERS, ROGUE]
        }
        host_keys = IssuerKeyStore(self.keys)
        self.icbc = Bank("ICBC")
        self._account_of: dict[bytes, str] = {}
        self.cash_host = LoadHost(host_keys)
        self.bank_host = LoadHost(
            host_keys, BankFunding(self.icbc, lambda asn: self._account_of.get(asn, ""))
        )
        self.transfer_host = LoadHost(host_keys)
        self.load: dict[bytes, LoadTerminal] = {
            WINDOW: LoadTerminal(WINDOW, self.cash_host),
            ICBC_KIOSK: LoadTerminal(ICBC_KIOSK, self.bank_host),
            TRANSFER_WINDOW: LoadTerminal(TRANSFER_WINDOW, self.transfer_host),
        }
        self.citizens: list[Citizen] = []
        self.uploads: list[Upload] = []
        self.uploaded: list[tuple[str, bytes]] = []
        self.produced: dict[bytes, TransactionRecord] = {}  # every genuine record, by key
        self.hotlisted_keys: set[bytes] = set()
        self.settlements: list[SettlementReport] = []
        self.reports: list[IngestReport] = []
        self.released: list[tuple[int, str]] = []
        self._batch_seq: dict[bytes, int] = {}
        self._held_back: list[tuple[date, bytes, list[TransactionRecord]]] = []
        self._reuploads: list[tuple[date, str, bytes]] = []
        self._bus2_yesterday: list[TransactionRecord] = []
        self._issue(citizens)

    # -- setup --------------------------------------------------------------------------

    def _issue(self, count: int) -> None:
        at = datetime.combine(WEEK_START, datetime.min.time()) - timedelta(days=1)
        for number in range(count):
            account = f"icbc-{number:04d}" if number % 2 == 0 else None
            if account is not None:
                self.icbc.open_account(account, 300_000)
            citizen = f"citizen-{number:04d}"
            asn = self.office.lifecycle.apply(citizen, at)
            card = self._card_os(asn, number, at)
            self.office.lifecycle.issue(asn, at)
            if account is not None:
                self._account_of[asn] = account
            self.citizens.append(Citizen(number, asn, card, SimChannel(card), account))

    def _card_os(self, asn: bytes, number: int, at: datetime) -> CardOS:
        """Personalise the applied card (the card factory writes keys and files) and record it."""
        state = self.factory.personalise(CardProfile(asn=asn))
        self.office.lifecycle.personalised(asn, at)
        return CardOS(state, rng=random.Random(self.seed * 100_003 + number * 7 + len(self.produced)))

    # -- the week -----------------------------------------------------------------------

    def run(self) -> None:
        for offset in range(WEEK_DAYS):
            self._day(offset, WEEK_START + timedelta(days=offset))
        final = WEEK_START + timedelta(days=WEEK_DAYS)
        self._clear(final)
        self.review(final)
        self.settlements.append(self.office.settlement.run(final))

    def _clear(self, day: date) -> None:
        due = [u for u in self.uploads if u.clear_on <= day]
        self.uploads = [u for u in self.uploads if u.clear_on > day]
        for upload in due:
            self.reports.append(self.office.clearing.ingest_file(upload.raw, upload.name, day))

    def review(self, day: date) -> None:
        """A reviewer releases every held record that may be paid: no-proof commits (the card's log
        shows them), late uploads, and gaps that no upload will close (a serial spent by a card that
        failed). Hotlisted, duplicate, forged and corrupt entries stay."""
        for qid, reason, _detail in self.office.clearing.held():
            if Reason(reason) in RELEASABLE and Reason(reason) is not Reason.HOTLISTED:
                self.office.clearing.release(qid, f"reviewed: {reason} confirmed genuine", day)
                self.released.append((qid, reason))

    def _day(self, offset: int, day: date) -> None:
        morning = datetime.combine(day, datetime.min.time()) + timedelta(hours=6)
        self._clear(day)
        self._morning_events(offset, day, morning)
        self.settlements.append(self.office.settlement.run(day))
        listed = self.office.hotlist.at(morning)
        for terminal_id, terminal in self.purchase.items():
            # The third bus missed every hotlist update: its depot link is down all week.
            terminal.hotlist = frozenset() if terminal_id == BUSES[2] else listed
        # The scripted cases run first, so each card involved shows only the fault meant for it.
        self._scripted_faults(offset, day)
        self._traffic(offset, day)
        self._evening_uploads(offset, day)

    def _morning_events(self, offset: int, day: date, morning: datetime) -> None:
        office = self.office
        if offset == 1:
            for citizen in self.citizens[:5]:
                office.accounts.pay_in(f"citizen-{citizen.number:04d}", 3_000, "voucher", day)
        if offset == 3:
            for citizen in self.citizens[:3]:
                office.accounts.pay(f"citizen-{citizen.number:04d}", "shop-hz", 1_000, day)
        if offset == 4:
            self._replace_lost_card(morning)
            rogue = next(name for name, _ in self.uploaded if ROGUE.hex() in name)
            self.registry.register(TerminalEntry(ROGUE, ROGUE, "shop-hz"))
            office.clearing.reingest(rogue, day)
        if offset == 5:
            self._refund_and_close(self.citizens[CLOSER], morning)

    def _replace_lost_card(self, morning: datetime) -> None:
        citizen = self.citizens[LOST]
        replacement = self.office.lifecycle.replace(citizen.asn, morning)
        card = self._card_os(replacement.new_asn, citizen.number + 1000, morning)
        self.office.lifecycle.issue_replacement(replacement.new_asn, morning)
        citizen.retired_cards.append(citizen.card)
        citizen.asn, citizen.card, citizen.channel = replacement.new_asn, card, SimChannel(card)
        if citizen.bank_account is not None:
            self._account_of[citizen.asn] = citizen.bank_account
        if replacement.balance_fen:
            self._keep(self.load[TRANSFER_WINDOW].load(citizen.channel, replacement.balance_fen, morning))

    def _refund_and_close(self, citizen: Citizen, morning: datetime) -> None:
        state = citizen.card.state
        self.office.lifecycle.refund_and_close(
            citizen.asn, state.ep_balance_fen + state.ed_balance_fen, morning
        )
        citizen.closed = True

    # -- traffic ------------------------------------------------------------------------

    def _keep(self, record: TransactionRecord) -> TransactionRecord:
        self.produced[record_key(record.asn, record.tx_type, record.counter)] = record
        return record

    def _try(self, action: Callable[..., TransactionRecord], *args: object) -> TransactionRecord | None:
        try:
            return self._keep(action(*args))
        except CardStatusError:
            return None  # insufficient balance, balance limit: the citizen walks on

    def _traffic(self, offset: int, day: date) -> None:
        rng = self.rng
        for citizen in self.citizens:
            if citizen.closed or (citizen.number == LOST and offset in (2, 3)):
                continue
            special = citizen.number in (LOST, CLOSER)
            t = datetime.combine(day, datetime.min.time()) + timedelta(hours=7, minutes=citizen.number * 25)
            channel = citizen.channel
            if citizen.card.state.ep_balance_fen < LOW_BALANCE_FEN:
                kiosk = ICBC_KIOSK if citizen.bank_account and rng.random() < 0.6 else WINDOW
                self._try(self.load[kiosk].load, channel, LOAD_FEN, t)
            for ride in range(rng.randint(0, 2)):
                bus = self.purchase[rng.choice(BUSES)]
                self._try(bus.purchase, channel, BUS_FARE_FEN, t + timedelta(minutes=2 + ride))
            if rng.random() < 0.5:
                self._metro(citizen, t + timedelta(minutes=5), rng.choice(GATES))
            if not special and rng.random() < 0.2:
                amount = rng.randrange(1_100, 3_500)
                self._try(self.purchase[TAXI].purchase, channel, amount, t + timedelta(minutes=12))
            if rng.random() < 0.25:
                pos = ROGUE if offset == 2 and citizen.number % 2 == 1 and not special else POS
                amount = rng.randrange(500, 3_000)
                self._try(self.purchase[pos].purchase, channel, amount, t + timedelta(minutes=15))
            if rng.random() < 0.05:
                self._try(self.purchase[UTIL].purchase, channel, 4_500, t + timedelta(minutes=18))

    def _metro(self, citizen: Citizen, at: datetime, gate_in: bytes) -> None:
        rng = self.rng
        gate_out = rng.choice([g for g in GATES if g != gate_in])
        station_in, station_out = rng.randrange(1, 30), rng.randrange(1, 30)
        entry = self._try(self.purchase[gate_in].composite_entry, citizen.channel, station_in, at)
        if entry is not None:
            exit_at = at + timedelta(minutes=25)
            self._try(
                self.purchase[gate_out].composite_exit, citizen.channel, station_out, exit_at, metro_fare
            )

    def _scripted_faults(self, offset: int, day: date) -> None:
        noon = datetime.combine(day, datetime.min.time()) + timedelta(hours=12)
        bus1, bus2, bus3 = (self.purchase[b] for b in BUSES)
        # The terminals whose uploads go wrong get traffic for sure, whatever the dice said.
        forced: dict[int, list[tuple[int, bytes]]] = {
            0: [(6, TAXI), (7, TAXI)],
            1: [(6, GATES[0]), (7, GATES[0]), (8 % len(self.citizens), GATES[0])],
            2: [(3, ROGUE), (4, POS), (6, POS)],
            3: [(4, POS), (5, GATES[1])],
        }
        for number, terminal_id in forced.get(offset, []):
            citizen = self.citizens[number]
            self._ensure_balance(citizen, noon - timedelta(hours=1))
            at = noon + timedelta(minutes=number)
            if terminal_id in GATES:
                self._metro(citizen, at, terminal_id)
            else:
                self._keep(self.purchase[terminal_id].purchase(citizen.channel, 1_000, at))
        if offset == 1:
            # A purchase torn after the card committed; the card then rides another bus (its proof
            # is overwritten) and comes back: the first bus recovers it without a TAC.
            citizen = self.citizens[0]
            self._ensure_balance(citizen, noon)
            self._tear_next_debit(citizen.card, TearPhase.AFTER_COMMIT)
            try:
                bus1.purchase(citizen.channel, BUS_FARE_FEN, noon)
            except TransactionTornError:
                citizen.channel.insert()
            self._keep(bus2.purchase(citizen.channel, BUS_FARE_FEN, noon + timedelta(minutes=30)))
            for recovery in bus1.recover(citizen.channel, noon + timedelta(hours=2)):
                assert recovery.record is not None and recovery.record.tac == b""
                self._keep(recovery.record)
        if offset == 2:
            citizen = self.citizens[LOST]
            self._ensure_balance(citizen, noon - timedelta(hours=4))
            self.office.lifecycle.report_loss(citizen.asn, noon - timedelta(hours=3))
            # The finder rides before the hotlist takes effect: honoured.
            self._keep(bus2.purchase(citizen.channel, BUS_FARE_FEN, noon))
        if offset == 3:
            # After the effect time, on the bus that missed the list: the clearing house refuses it.
            citizen = self.citizens[LOST]
            record = self._keep(bus3.purchase(citizen.channel, BUS_FARE_FEN, noon + timedelta(hours=6)))
            self.hotlisted_keys.add(record_key(record.asn, record.tx_type, record.counter))
        if offset == 5:
            # A card fails after the PSAM issued MAC1: the serial is spent, no record exists.
            citizen = self.citizens[3]
            self._ensure_balance(citizen, noon)
            self._tear_next_debit(citizen.card, TearPhase.BEFORE_COMMIT)
            try:
                bus1.purchase(citizen.channel, BUS_FARE_FEN, noon)
            except TransactionTornError:
                citizen.channel.insert()
            bus1.recover(citizen.channel, noon + timedelta(minutes=1))
            self._keep(bus1.purchase(citizen.channel, BUS_FARE_FEN, noon + timedelta(minutes=2)))

    def _ensure_balance(self, citizen: Citizen, at: datetime) -> None:
        if citizen.card.state.ep_balance_fen < LOW_BALANCE_FEN:
            self._keep(self.load[WINDOW].load(citizen.channel, LOAD_FEN, at))

    @staticmethod
    def _tear_next_debit(card: CardOS, phase: TearPhase) -> None:
        def hook(raw: bytes, when: TearPhase) -> bool:
            if raw[1] == 0x54 and when is phase:
                card.tear_hook = None
                return True
            return False

        card.tear_hook = hook

    # -- uploads ------------------------------------------------------------------------

    def _batch(
        self, terminal_id: bytes, records: list[TransactionRecord], created: datetime
    ) -> tuple[str, bytes]:
        seq = self._batch_seq.get(terminal_id, 0) + 1
        self._batch_seq[terminal_id] = seq
        psam = terminal_id if terminal_id in self.purchase else NO_PSAM
        raw = write_batch(terminal_id, psam, seq, created, records)
        return f"{created:%Y%m%d}-{terminal_id.hex()}-{seq:04d}", raw

    def _send(self, day: date, name: str, raw: bytes) -> None:
        name = f"{len(self.uploaded) + 1:05d}-{name}.ctb"
        self.uploaded.append((name, raw))
        self.uploads.append(Upload(day + timedelta(days=1), name, raw))

    def _evening_uploads(self, offset: int, day: date) -> None:
        evening = datetime.combine(day, datetime.min.time()) + timedelta(hours=23)
        for when, name, raw in [r for r in self._reuploads if r[0] == day]:
            self._send(when, name + "-again", raw)
        journals: dict[bytes, list[TransactionRecord]] = {
            t: p.journal.drain() for t, p in self.purchase.items()
        }
        journals.update({t: lt.journal.drain() for t, lt in self.load.items()})
        if offset == 0:
            self._send(day, "garbage", b"this is not a batch file\n" * 3)
            self._held_back.append((day + timedelta(days=4), TAXI, journals.pop(TAXI)))
        for _when, terminal_id, records in [h for h in self._held_back if h[0] == day]:
            self._send(day, *self._batch(terminal_id, records, evening))
        if offset == 2:
            # BUS2 never marked yesterday's upload as done: it sends those records again.
            journals[BUSES[1]] = self._bus2_yesterday + journals[BUSES[1]]
        if offset == 1:
            self._bus2_yesterday = list(journals[BUSES[1]])
        order = sorted(journals)
        if offset == 1:
            # BUS2 (with the ride after the torn one) uploads before BUS1 (the recovered record).
            order.remove(BUSES[1])
            order.insert(0, BUSES[1])
        for terminal_id in order:
            records = journals[terminal_id]
            if not records:
                continue
            if offset == 1 and terminal_id == GATES[0] and len(records) > 1:
                half = len(records) // 2
                first = self._batch(terminal_id, records[:half], evening)
                second = self._batch(terminal_id, records[half:], evening)
                self._send(day, *second)  # out of order: the later half arrives first
                self._send(day, *first)
                continue
            if offset == 3 and terminal_id == POS:
                victim = records[0]
                forged = replace(
                    victim,
                    amount_fen=victim.amount_fen + 1_000,
                    balance_after_fen=victim.balance_before_fen - victim.amount_fen - 1_000,
                )
                # And the operator re-sends the first record with the card counter re-encoded
                # (the purchase TAC does not cover it): its PSAM serial has cleared already.
                re_encoded = replace(victim, counter=victim.counter + 1)
                records = [*records, forged, re_encoded]
            name, raw = self._batch(terminal_id, records, evening)
            if offset == 3 and terminal_id == GATES[1]:
                self._send(day, name + "-cut", raw[: len(raw) - RECORD_SIZE // 2])
                self._reuploads.append((day + timedelta(days=1), name, raw))
                continue
            if offset == 2 and terminal_id == POS:
                flipped = bytearray(raw)
                flipped[56 + 12] ^= 0x10  # the first record's amount
                self._send(day, name + "-flipped", bytes(flipped))
                self._reuploads.append((day + timedelta(days=1), name, raw))
                continue
            self._send(day, name, raw)

    # -- outcome ------------------------------------------------------------------------

    def live_card_balances_fen(self) -> int:
        return sum(
            c.card.state.ep_balance_fen + c.card.state.ed_balance_fen for c in self.citizens if not c.closed
        )

    def write(self, folder: Path) -> None:
        """Everything `cardtwin clearing` needs: the batch files in upload order, the registry as it
        is at the end of the week, the issuer keys and the hotlist."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, raw in self.uploaded:
            (folder / name).write_bytes(raw)
        (folder / "registry.toml").write_text(self.registry.to_toml(), encoding="utf-8")
        write_issuer_keys(folder / "issuer-keys.toml", self.keys)
        lines: list[str] = []
        for asn in sorted(self.office.hotlist.at(datetime(9999, 12, 31)), key=bytes.hex):
            effective = self.office.hotlist.effective(asn)
            assert effective is not None
            lines += ["[[card]]", f'asn = "{asn.hex()}"', f'effective = "{effective.hex()}"', ""]
        (folder / "hotlist.toml").write_text("\n".join(lines), encoding="utf-8")
