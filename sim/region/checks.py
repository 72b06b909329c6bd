"""Every fen of the region accounted for, in both ledgers and the interchange between them.

Pure questions over the run's end state (cards, terminals, both clearing databases), each
answered as a `Check` with the two sides it compares:

- cards: each issuer's cards hold exactly what their loads put on them less what their
  purchases took (records made anywhere, both cities, torn taps included once);
- purchases: each issuer's cards' purchases, wherever made, are cleared in its house, held in
  its quarantine, still in a partner's outbox (routed, not yet taken by the issuer's house) or
  still in a terminal (its house was down): nothing else, nothing twice;
- loads: each issuer's loads are cleared or held in its own house;
- interchange: what an issuer's house took from a partner's files equals what it cleared and
  holds under that partner's acquirers;
- cross-settlement: for every advice applied, the acquirer's books equal the issuer's settlement
  lines (gross, interchange fee, net) and the issuer's instruction to the acquirer's bank equals
  the acquirer's reserve receipt; each ledger balances.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.backoffice.identity import DECIDED_SQL
from model.backoffice.interchange import city_of, ix_bank, ix_participant
from model.records import RECORD_SIZE, TransactionRecord, decode_record, parse_batch
from sim.region.world import City


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    left_fen: int
    right_fen: int
    detail: str

    @property
    def ok(self) -> bool:
        return self.left_fen == self.right_fen


def _held_fen(city: City) -> tuple[int, int]:
    """(loads, purchases) fen held undecided in this house's quarantine."""
    loads = purchases = 0
    for (raw,) in city.office.ledger.db.execute(
        f"SELECT raw FROM quarantine WHERE raw IS NOT NULL AND id NOT IN ({DECIDED_SQL})"
    ):
        raw = bytes(raw)
        records = (
            [decode_record(raw, "held", check_crc=False)]
            if len(raw) == RECORD_SIZE
            else [r for _, _, r in parse_batch(raw, "held").records]
        )
        for r in records:
            if r.is_load:
                loads += r.amount_fen
            else:
                purchases += r.amount_fen
    return loads, purchases


def _cleared_fen(city: City) -> tuple[int, int]:
    row = city.office.ledger.db.execute(
        "SELECT COALESCE(SUM(CASE WHEN tx_type IN (1, 2) THEN amount_fen END), 0), "
        "COALESCE(SUM(CASE WHEN tx_type NOT IN (1, 2) THEN amount_fen END), 0) FROM records"
    ).fetchone()
    return int(row[0]), int(row[1])


def _untaken_fen(src: City, dst: City) -> int:
    """Routed by `src` to `dst` and not (yet) taken by `dst`'s house: pending or in a file it lacks."""
    taken = {
        int(r[0])
        for r in dst.office.ledger.db.execute("SELECT seq FROM ix_in WHERE from_city = ?", (src.code,))
    }
    files = src.office.ledger.db.execute(
        "SELECT seq, purchase_fen FROM ix_out WHERE to_city = ?", (dst.code,)
    )
    return src.outbox.in_transit(dst.code).pending_fen + sum(int(f) for s, f in files if int(s) not in taken)


def _taken_fen(src: City, dst: City) -> int:
    taken = {
        int(r[0])
        for r in dst.office.ledger.db.execute("SELECT seq FROM ix_in WHERE from_city = ?", (src.code,))
    }
    files = src.office.ledger.db.execute(
        "SELECT seq, purchase_fen FROM ix_out WHERE to_city = ?", (dst.code,)
    )
    return sum(int(f) for s, f in files if int(s) in taken)


def card_checks(cities: list[City], made: list[TransactionRecord]) -> list[Check]:
    out = []
    for city in cities:
        mine = [r for r in made if city_of(r.asn) == city.code]
        loads = sum(r.amount_fen for r in mine if r.tx_type.is_load)
        purchases = sum(r.amount_fen for r in mine if not r.tx_type.is_load)
        balances = sum(card.state.ep_balance_fen for card in city.cards.values())
        out.append(
            Check(
                f"{city.spec.name}: cards = loads - purchases",
                balances,
                loads - purchases,
                "card images vs records made",
            )
        )
        cleared_loads, cleared_purchases = _cleared_fen(city)
        held_loads, held_purchases = _held_fen(city)
        in_terminals = sum(
            r.amount_fen
            for c in cities
            for r in _journals(c)
            if city_of(r.asn) == city.code and not r.tx_type.is_load
        )
        untaken = sum(_untaken_fen(src, city) for src in cities if src is not city)
        out.append(Check(
            f"{city.spec.name}: purchases made = cleared + held + in interchange + in terminals",
            purchases, cleared_purchases + held_purchases + untaken + in_terminals,
            f"cleared {cleared_purchases}, held {held_purchases}, in interchange {untaken}, "
            f"in terminals {in_terminals}",
        ))  # fmt: skip
        out.append(
            Check(f"{city.spec.name}: loads made = cleared + held", loads, cleared_loads + held_loads, "")
        )
    return out


def _journals(city: City) -> list[TransactionRecord]:
    out = list(city.kiosk.journal.records())
    for bus in city.buses:
        for slot in bus.slots():
            out += slot.journal.records()
    return out


def interchange_checks(cities: list[City]) -> list[Check]:
    out = []
    for issuer in cities:
        for acquirer in cities:
            if issuer is acquirer:
                continue
            posted, held = issuer.inbox.received_fen(acquirer.code)
            pair = f"{acquirer.spec.name}->{issuer.spec.name}"
            name = f"{pair}: files taken = cleared + held under {acquirer.spec.name}'s acquirers"
            taken = _taken_fen(acquirer, issuer)
            out.append(Check(name, taken, posted + held, f"cleared {posted}, held {held}"))
            out += _cross_checks(issuer, acquirer, pair)
    return out


def _cross_checks(issuer: City, acquirer: City, pair: str) -> list[Check]:
    db = issuer.office.ledger.db
    applied = [int(r[0]) for r in acquirer.office.ledger.db.execute(
        "SELECT business_day FROM ix_advice_in WHERE from_city = ?", (issuer.code,))]  # fmt: skip
    marks = ",".join("?" * len(applied)) or "NULL"
    prefix = ix_participant(acquirer.code, "") + "%"
    gross, fee, net = db.execute(
        "SELECT COALESCE(SUM(l.gross_fen), 0), COALESCE(SUM(l.fee_fen), 0), COALESCE(SUM(l.position_fen), 0) "
        f"FROM settlement_lines l JOIN settlements s ON s.id = l.settlement_id WHERE l.participant LIKE ? "
        f"AND s.business_day IN ({marks})",
        (prefix, *applied),
    ).fetchone()
    paid_gross, paid_ix_fee, _, _ = acquirer.outbox.payouts_fen(issuer.code)
    instructed = db.execute(
        "SELECT COALESCE(SUM(i.amount_fen), 0) FROM instructions i "
        f"JOIN settlements s ON s.id = i.settlement_id WHERE i.bank = ? AND s.business_day IN ({marks})",
        (ix_bank(acquirer.code), *applied),
    ).fetchone()[0]
    received = sum(int(r[0]) - int(r[1]) for r in acquirer.office.ledger.db.execute(
        "SELECT gross_fen, ix_fee_fen FROM ix_payouts WHERE from_city = ?", (issuer.code,)))  # fmt: skip
    return [
        Check(
            f"{pair}: settled gross = gross paid out",
            int(gross),
            paid_gross,
            f"{len(applied)} advice(s) applied",
        ),
        Check(f"{pair}: interchange fee kept = fee paid", int(fee), paid_ix_fee, ""),
        Check(
            f"{pair}: net settled = instruction to {ix_bank(acquirer.code)}", int(net), int(instructed), ""
        ),
        Check(f"{pair}: instruction = acquirer's reserve receipt", int(instructed), received, ""),
    ]


def ledger_checks(cities: list[City]) -> list[Check]:
    out = []
    for city in cities:
        city.office.ledger.check()  # raises on an unbalanced posting
        total = city.office.ledger.db.execute("SELECT COALESCE(SUM(amount_fen), 0) FROM entries").fetchone()[
            0
        ]
        out.append(Check(f"{city.spec.name}: ledger balances", int(total), 0, "every posting sums to zero"))
    return out
