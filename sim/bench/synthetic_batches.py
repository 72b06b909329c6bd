"""Large volumes of valid batch files for the clearing benchmark and the crash test.

Running a hundred thousand purchases through the card emulator takes half a minute, which is
the card's cost, not the clearing house's. These records are made the way the card makes them
(the TAC is `model.security.crypto.tac` under the card's DTK, diversified from the issuer master key,
over `model.security.mac_inputs.purchase_tac_data`), with per-card counters and per-PSAM serials that run
on without gaps, so the clearing house does all its work on them and posts every one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from model.backoffice import Participant, Registry, Sector, TerminalEntry
from model.records import TransactionRecord, TxType, write_batch
from model.security import Algorithm, IssuerKeys, KeyUsage, diversify, purchase_tac_data, tac
from model.timefmt import encode_datetime

SYNTH_START = datetime(2026, 11, 23, 6, 0, 0)
SYNTH_BALANCE_FEN = 10_000_000
SYNTH_FARE_FEN = 182


def synthetic_registry(terminals: int) -> Registry:
    participants = [Participant("bus-synth", "Synthetic bus company", Sector.BUS, "ICBC")]
    entries = [TerminalEntry(_terminal(n), _terminal(n), "bus-synth") for n in range(terminals)]
    return Registry(participants, entries)


def _terminal(n: int) -> bytes:
    return bytes.fromhex("3301") + (0x1000_0000 + n).to_bytes(4, "big")


def synthetic_batches(
    keys: IssuerKeys, records: int, cards: int = 2_000, terminals: int = 50, per_batch: int = 5_000
) -> list[tuple[str, bytes]]:
    """`records` EP purchases spread over `cards` cards and `terminals` PSAMs, as batch files."""
    algorithm = Algorithm.DES3
    master = keys.master(KeyUsage.TAC, algorithm, 1)
    dtks = [
        diversify(algorithm, master, (0x3301_0000_0000_0000 + n).to_bytes(8, "big")) for n in range(cards)
    ]
    counters = [0] * cards
    balances = [SYNTH_BALANCE_FEN] * cards
    serials = [0] * terminals
    journals: list[list[TransactionRecord]] = [[] for _ in range(terminals)]
    for n in range(records):
        # Each card rides its own route, so a batch holds its records in counter order.
        card = n % cards
        term = card % terminals
        asn = (0x3301_0000_0000_0000 + card).to_bytes(8, "big")
        terminal_id = _terminal(term)
        moment = SYNTH_START + timedelta(seconds=n % 50_000)
        serial = serials[term]
        amount = SYNTH_FARE_FEN + n % 17
        data = purchase_tac_data(amount, TxType.EP_PURCHASE, terminal_id, serial, encode_datetime(moment))
        journals[term].append(
            TransactionRecord(
                asn=asn,
                counter=counters[card],
                amount_fen=amount,
                tx_type=TxType.EP_PURCHASE,
                terminal_id=terminal_id,
                terminal_serial=serial,
                moment=moment,
                balance_before_fen=balances[card],
                balance_after_fen=balances[card] - amount,
                tac=tac(algorithm, dtks[card], data),
                algorithm=algorithm,
                key_index=1,
            )
        )
        serials[term] += 1
        counters[card] += 1
        balances[card] -= amount
    files: list[tuple[str, bytes]] = []
    created = SYNTH_START + timedelta(hours=17)
    for term, journal in enumerate(journals):
        for seq, start in enumerate(range(0, len(journal), per_batch), start=1):
            terminal_id = _terminal(term)
            raw = write_batch(terminal_id, terminal_id, seq, created, journal[start : start + per_batch])
            files.append((f"{seq:04d}-{terminal_id.hex()}.ctb", raw))
    # Upload order: every terminal's first batch, then every second one, ...
    return sorted(files)
