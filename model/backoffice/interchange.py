"""Interchange between clearing houses: a visiting card's records cleared by its issuer's house.

Each city has its issuer, with its own keys (only its house can verify its cards' TACs), and
its clearing house. A terminal of city B that accepts a card of city A (an interoperable PSAM:
`devices.psam` with an `IssuerKeyRing`) uploads to B's house like any other. B's house checks
what it can without A's keys (the batch reads whole, the terminal and its PSAM are B's) and
routes the visiting cards' records out before ingest (`Outbox.route`; a card's city is its
ASN's first 4 bytes); what stays is ingested by B's `ClearingHouse` as always. The routed
records travel to A in numbered interchange files (`interchange_wire`), are ingested by A's
`ClearingHouse` under B's acquirers (participants `ix:<B>:<p>`, sector interchange, bank
`ix:<B>`), verified with A's keys and held or posted there like A's own; A acknowledges each
file, settles T+1 with its fee schedule (the interchange sector's fee is the interchange fee)
and sends B a settlement advice, which B applies once: the cross-settlement.

Exactly once, through any loss, delay, repeat or crash:
- a terminal batch is routed once (its SHA-256 is kept with the routing, in the same
  transaction as the records it sends out); the local part is cut deterministically, so a rerun
  hands B's house the same bytes, which it ingests once by content;
- a file is numbered per (from, to) and kept until acknowledged: a lost or late one is sent
  again as it was (`Outbox.unacked`);
- A takes (from, seq) once: a repeat gets the stored acknowledgement back, another file under a
  used number is refused; the inbox row and every batch of the file commit in one transaction;
- B applies an advice once per (from, business day); another advice for that day is refused.

Money (debit positive; A is the issuer's house, B the acquirer's, G gross, F the interchange
fee, f B's own fee on its participant's sector):
    A, ingest:      Dr float G                    Cr payable:ix:<B>:<p> G
    A, settlement:  Dr payable:ix:<B>:<p> G       Cr fees F, Cr bank:ix:<B> G-F; reserve pays ix:<B>
    B, advice:      Dr reserve G-F, Dr interchange-fees F     Cr fees f, Cr reserve G-f (paid to p)
so A's instruction to `ix:<B>` equals what B's reserve receives, A's interchange fee revenue is
B's interchange cost, and B's participant is paid G - f, as for a ride on a card of its own.

Limits: with more than two cities a PSAM that serves cards of several other issuers spends its
serials across them, and each issuer's house sees the others' as serial gaps (held for review):
give each terminal an interoperable PSAM per issuer group, as two-city regions do here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from model.backoffice.clearing import ClearingHouse, File
from model.backoffice.fees import FeeSchedule
from model.backoffice.interchange_wire import (
    FILE_BATCHES_MAX,
    Ack,
    Advice,
    AdviceLine,
    InterchangeError,
    InterchangeFile,
    decode_ack,
    decode_advice,
    decode_file,
    digest,
    encode_ack,
    encode_advice,
    encode_file,
)
from model.backoffice.ledger import Ledger
from model.backoffice.registry import Participant, Registry, Sector, TerminalEntry
from model.backoffice.settlement import SettlementReport
from model.backoffice.terms import IngestReport, day_int
from model.records import RECORD_SIZE, WireRecord, decode_record, parse_batch, write_batch
from model.timefmt import decode_datetime

INTERCHANGE_FEES = "interchange-fees"  # B's cost: the fees the issuers' houses kept

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ix_routed (digest BLOB PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ix_pending (
    id INTEGER PRIMARY KEY, to_city BLOB NOT NULL, participant TEXT NOT NULL, raw BLOB NOT NULL,
    records INTEGER NOT NULL, purchase_fen INTEGER NOT NULL, file_seq INTEGER);
CREATE TABLE IF NOT EXISTS ix_out (
    to_city BLOB NOT NULL, seq INTEGER NOT NULL, raw BLOB NOT NULL, digest BLOB NOT NULL,
    records INTEGER NOT NULL, purchase_fen INTEGER NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
    posted_fen INTEGER, PRIMARY KEY (to_city, seq));
CREATE TABLE IF NOT EXISTS ix_in (
    from_city BLOB NOT NULL, seq INTEGER NOT NULL, digest BLOB NOT NULL, ack BLOB NOT NULL,
    PRIMARY KEY (from_city, seq));
CREATE TABLE IF NOT EXISTS ix_advice_in (
    from_city BLOB NOT NULL, business_day INTEGER NOT NULL, digest BLOB NOT NULL,
    PRIMARY KEY (from_city, business_day));
CREATE TABLE IF NOT EXISTS ix_payouts (
    from_city BLOB NOT NULL, business_day INTEGER NOT NULL, participant TEXT NOT NULL,
    bank TEXT NOT NULL, count INTEGER NOT NULL, gross_fen INTEGER NOT NULL,
    ix_fee_fen INTEGER NOT NULL, fee_fen INTEGER NOT NULL, paid_fen INTEGER NOT NULL);
"""


def city_of(asn: bytes) -> bytes:
    """The city a card belongs to: its ASN's first 4 bytes (its issuer ID's first 4)."""
    return asn[:4]


def ix_participant(acquirer_city: bytes, participant: str) -> str:
    return f"ix:{acquirer_city.hex()}:{participant}"


def ix_bank(acquirer_city: bytes) -> str:
    return f"ix:{acquirer_city.hex()}"


@dataclass(frozen=True, slots=True)
class Routed:
    """What `route` leaves for the local house (None: nothing) and what it sent out."""

    local: bytes | None
    sent_records: int
    sent_fen: int


@dataclass(frozen=True, slots=True)
class InTransit:
    """Visiting purchases an acquirer routed, by where they stand (fen)."""

    pending_fen: int  # routed, not yet in a file
    unacked_fen: int  # in a file not acknowledged
    acked_fen: int  # acknowledged by the issuer's house


class Outbox:
    """The acquirer's side: routing, files, acknowledgements, and the advice applied."""

    def __init__(self, ledger: Ledger, registry: Registry, city: bytes, partners: frozenset[bytes]) -> None:
        if len(city) != 4 or any(len(p) != 4 for p in partners) or city in partners:
            raise InterchangeError(f"interchange {city.hex()}: cities are 4 bytes, partners not itself")
        self.ledger, self.db, self.registry = ledger, ledger.db, registry
        self.city, self.partners = city, partners
        self.db.executescript(_SCHEMA)

    def route(self, raw: bytes, name: str) -> Routed:
        """Cut one terminal batch: the partners' cards' records go out, the rest stay. A batch
        that does not read whole, or whose terminal is not ours, stays whole (the house holds it)."""
        parsed = parse_batch(raw, name)
        header = parsed.header
        entry = None if header is None else self.registry.terminals.get(header.terminal_id)
        if (
            header is None
            or parsed.faults
            or parsed.batch_faults
            or entry is None
            or entry.psam_id != header.psam_id
        ):
            return Routed(raw, 0, 0)
        by_city: dict[bytes, list[WireRecord]] = {}
        for _, _, r in parsed.records:
            by_city.setdefault(city_of(r.asn) if city_of(r.asn) in self.partners else self.city, []).append(r)
        if set(by_city) <= {self.city}:
            return Routed(raw, 0, 0)

        def cut(records: list[WireRecord]) -> bytes:
            created = decode_datetime(header.created)
            return write_batch(
                header.terminal_id,
                header.psam_id,
                header.batch_seq,
                created,
                [r.to_record() for r in records],
            )

        out = {
            c: (cut(rs), len(rs), sum(r.amount_fen for r in rs if not r.is_load))
            for c, rs in by_city.items()
            if c != self.city
        }
        seen = self.db.execute("SELECT 1 FROM ix_routed WHERE digest = ?", (digest(raw),)).fetchone()
        if not seen:
            with self.ledger.transaction():
                self.db.execute("INSERT INTO ix_routed VALUES (?, ?)", (digest(raw), name))
                self.db.executemany(
                    "INSERT INTO ix_pending(to_city, participant, raw, records, purchase_fen) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(c, entry.participant_id, b, n, fen) for c, (b, n, fen) in sorted(out.items())],
                )
        local = by_city.get(self.city)
        if seen:  # routed before: the same local bytes again (the house takes them once), nothing sent
            return Routed(None if local is None else cut(local), 0, 0)
        sent = sum(n for _, n, _ in out.values()), sum(fen for _, _, fen in out.values())
        return Routed(None if local is None else cut(local), *sent)

    def close_file(self, to_city: bytes, day: date) -> bytes | None:
        """The next numbered file to `to_city` of every routed batch not yet in one (None: none)."""
        rows = self.db.execute(
            "SELECT id, participant, raw, records, purchase_fen FROM ix_pending WHERE to_city = ? "
            "AND file_seq IS NULL ORDER BY id LIMIT ?",
            (to_city, FILE_BATCHES_MAX),
        ).fetchall()
        if not rows:
            return None
        with self.ledger.transaction():
            seq = int(
                self.db.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM ix_out WHERE to_city = ?", (to_city,)
                ).fetchone()[0]
            )
            records, fen = sum(r[3] for r in rows), sum(r[4] for r in rows)
            raw = encode_file(
                InterchangeFile(
                    self.city,
                    to_city,
                    seq,
                    day_int(day),
                    tuple((str(r[1]), bytes(r[2])) for r in rows),
                    records,
                    fen,
                )
            )
            self.db.execute(
                "INSERT INTO ix_out(to_city, seq, raw, digest, records, purchase_fen) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (to_city, seq, raw, digest(raw), records, fen),
            )
            self.db.executemany(
                "UPDATE ix_pending SET file_seq = ? WHERE id = ?", [(seq, r[0]) for r in rows]
            )
        return raw

    def unacked(self, to_city: bytes) -> list[bytes]:
        """Every file to `to_city` still waiting for its acknowledgement, oldest first: sent again."""
        return [bytes(r[0]) for r in self.db.execute(
            "SELECT raw FROM ix_out WHERE to_city = ? AND acked = 0 ORDER BY seq", (to_city,)
        )]  # fmt: skip

    def apply_ack(self, raw: bytes, name: str) -> Ack:
        ack = decode_ack(raw, name)
        row = self.db.execute(
            "SELECT digest, acked FROM ix_out WHERE to_city = ? AND seq = ?", (ack.from_city, ack.seq)
        ).fetchone()
        if row is None or ack.to_city != self.city or bytes(row[0]) != ack.file_digest:
            raise InterchangeError(
                f"{name}: acknowledges file {ack.seq} of {ack.from_city.hex()} that was not sent"
            )
        if not row[1]:
            with self.ledger.transaction():
                self.db.execute(
                    "UPDATE ix_out SET acked = 1, posted_fen = ? WHERE to_city = ? AND seq = ?",
                    (ack.posted_fen, ack.from_city, ack.seq),
                )
        return ack

    def apply_advice(self, raw: bytes, name: str, fees: FeeSchedule) -> Advice:
        """Cross-settle one advice, once: receive the issuer's net, pay each participant."""
        advice = decode_advice(raw, name)
        if advice.to_city != self.city or advice.from_city not in self.partners:
            raise InterchangeError(
                f"{name}: an advice from {advice.from_city.hex()} to {advice.to_city.hex()}"
            )
        row = self.db.execute(
            "SELECT digest FROM ix_advice_in WHERE from_city = ? AND business_day = ?",
            (advice.from_city, advice.business_day),
        ).fetchone()
        if row is not None:
            if bytes(row[0]) != digest(raw):
                raise InterchangeError(
                    f"{name}: a different advice for {advice.business_day} was applied already"
                )
            return advice
        payouts = [self._payout(advice, line, fees, name) for line in advice.lines]
        with self.ledger.transaction():
            self.db.execute(
                "INSERT INTO ix_advice_in VALUES (?, ?, ?)",
                (advice.from_city, advice.business_day, digest(raw)),
            )
            lines = [("reserve", advice.net_fen), (INTERCHANGE_FEES, sum(ln.fee_fen for ln in advice.lines))]
            lines += [("fees", -sum(p[7] for p in payouts)), ("reserve", -sum(p[8] for p in payouts))]
            if any(amount for _, amount in lines):
                self.ledger.post(
                    advice.business_day,
                    f"interchange advice {advice.from_city.hex()} {advice.business_day}",
                    lines,
                )
            self.db.executemany("INSERT INTO ix_payouts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", payouts)
        return advice

    def _payout(
        self, advice: Advice, line: AdviceLine, fees: FeeSchedule, name: str
    ) -> tuple[bytes, int, str, str, int, int, int, int, int]:
        owner = self.registry.participants.get(line.participant)
        if owner is None:
            raise InterchangeError(f"{name}: participant {line.participant!r} is not registered here")
        fee = fees.fee_fen(owner.sector, line.gross_fen, line.count)
        return (
            advice.from_city,
            advice.business_day,
            line.participant,
            owner.bank,
            line.count,
            line.gross_fen,
            line.fee_fen,
            fee,
            line.gross_fen - fee,
        )

    def in_transit(self, to_city: bytes) -> InTransit:
        pending = self.db.execute(
            "SELECT COALESCE(SUM(purchase_fen), 0) FROM ix_pending WHERE to_city = ? AND file_seq IS NULL",
            (to_city,),
        ).fetchone()[0]
        unacked, acked = self.db.execute(
            "SELECT COALESCE(SUM(CASE WHEN acked = 0 THEN purchase_fen END), 0), "
            "COALESCE(SUM(CASE WHEN acked = 1 THEN purchase_fen END), 0) FROM ix_out WHERE to_city = ?",
            (to_city,),
        ).fetchone()
        return InTransit(int(pending), int(unacked), int(acked))

    def payouts_fen(self, from_city: bytes) -> tuple[int, int, int, int]:
        """(gross, interchange fees, own fees, paid) of every advice applied from `from_city`."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(gross_fen), 0), COALESCE(SUM(ix_fee_fen), 0), COALESCE(SUM(fee_fen), 0), "
            "COALESCE(SUM(paid_fen), 0) FROM ix_payouts WHERE from_city = ?",
            (from_city,),
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])


class Inbox:
    """The issuer's side: files taken once into its clearing house, acknowledged, advised."""

    def __init__(self, house: ClearingHouse, city: bytes) -> None:
        self.house, self.db, self.city = house, house.db, city
        self.db.executescript(_SCHEMA)

    def receive(self, raw: bytes, name: str, clearing_day: date) -> bytes:
        """Ingest one interchange file (once) and return its acknowledgement's bytes."""
        f = decode_file(raw, name)
        if f.to_city != self.city:
            raise InterchangeError(f"{name}: addressed to {f.to_city.hex()}, this house is {self.city.hex()}")
        row = self.db.execute(
            "SELECT digest, ack FROM ix_in WHERE from_city = ? AND seq = ?", (f.from_city, f.seq)
        ).fetchone()
        if row is not None:
            if bytes(row[0]) != digest(raw):
                raise InterchangeError(
                    f"{name}: file {f.seq} of {f.from_city.hex()} was taken already with other bytes"
                )
            return bytes(row[1])
        self._register(f, name)
        acks: list[bytes] = []

        def acknowledge(reports: list[IngestReport]) -> None:
            ack = encode_ack(Ack(
                self.city, f.from_city, f.seq, digest(raw), sum(r.posted for r in reports),
                sum(len(r.quarantined) for r in reports), sum(r.posted_purchase_fen for r in reports),
            ))  # fmt: skip
            self.db.execute("INSERT INTO ix_in VALUES (?, ?, ?, ?)", (f.from_city, f.seq, digest(raw), ack))
            acks.append(ack)

        batches: list[File] = [(f"{name}#{n}", b) for n, (_, b) in enumerate(f.batches)]
        self.house.ingest_with(batches, clearing_day, acknowledge)
        ack = acks[0]
        return ack

    def _register(self, f: InterchangeFile, name: str) -> None:
        """The acquirer's terminals and participants, as the file names them. The TACs, checked
        with this house's keys, cover the terminal ID: a wrong name cannot make a card pay."""
        registry = self.house.registry
        for participant, batch in f.batches:
            pid = ix_participant(f.from_city, participant)
            if pid not in registry.participants:
                registry.participants[pid] = Participant(
                    pid, f"{participant} ({f.from_city.hex()})", Sector.INTERCHANGE, ix_bank(f.from_city)
                )
            header = parse_batch(batch, name).header
            assert header is not None  # decode_file read every batch whole
            entry = registry.terminals.get(header.terminal_id)
            if entry is None:
                registry.register(TerminalEntry(header.terminal_id, header.psam_id, pid))
            elif entry.participant_id != pid or entry.psam_id != header.psam_id:
                raise InterchangeError(
                    f"{name}: terminal {header.terminal_id.hex()} is registered here to "
                    f"{entry.participant_id}"
                )

    def advice(self, report: SettlementReport, to_city: bytes) -> bytes:
        """The advice of one settlement's lines owed to `to_city`'s acquirers."""
        prefix = ix_participant(to_city, "")
        lines = tuple(
            AdviceLine(
                ln.participant[len(prefix):], ln.purchase_count, ln.gross_fen, ln.fee_fen, ln.position_fen
            )
            for ln in report.lines if ln.participant.startswith(prefix)
        )  # fmt: skip
        return encode_advice(Advice(self.city, to_city, day_int(report.business_day), lines))

    def missing(self, from_city: bytes) -> list[int]:
        """File numbers from `from_city` below the highest taken that never arrived."""
        seqs = {int(r[0]) for r in self.db.execute("SELECT seq FROM ix_in WHERE from_city = ?", (from_city,))}
        return sorted(set(range(1, max(seqs, default=0) + 1)) - seqs)

    def received_fen(self, from_city: bytes) -> tuple[int, int]:
        """(posted, held) fen of the purchases `from_city`'s acquirers sent, as this house's
        books say: cleared records under their participants, and undecided holds of their terminals."""
        prefix = ix_participant(from_city, "")
        posted = self.db.execute(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM records "
            "WHERE participant LIKE ? AND tx_type NOT IN (1, 2)",
            (prefix + "%",),
        ).fetchone()[0]
        held = 0
        for qid, _, _ in self.house.held():
            raw = self.db.execute("SELECT raw FROM quarantine WHERE id = ?", (qid,)).fetchone()[0]
            if raw is None or len(raw) != RECORD_SIZE:
                continue  # a whole file held: its terminal is not an interchange one (decode_file read it)
            r = decode_record(bytes(raw), f"quarantine {qid}", check_crc=False)
            owner = self.house.registry.owner(r.terminal_id)
            if owner is not None and owner.participant_id.startswith(prefix) and not r.is_load:
                held += r.amount_fen
        return int(posted), held
