"""Whatever order uploads arrive in and however often they repeat, each record clears once."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice.registry import TerminalEntry
from model.records.batch import read_batch, write_batch
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import CLEARING_DAY, batch, office
from tests.conftest import ISSUER_ID, MOMENT

CARDS = 6
START_FEN = 20_000


@pytest.fixture(scope="module")
def uploads() -> tuple[IssuerKeys, list[bytes], list[bytes], int]:
    """Real purchases on 6 cards at 3 PSAMs over 3 rounds: (keys, batch files, terminals, fen spent)."""
    keys = generate_issuer_keys(seed=7, issuer_id=ISSUER_ID)
    psam_keys = IssuerKeyStore(keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    terminal_ids = [bytes.fromhex(f"0000000003{n:02d}") for n in range(3)]
    terminals = [PurchaseTerminal(SimChannel(Psam(t, psam_keys))) for t in terminal_ids]
    factory = CardFactory(keys)
    cards = []
    for n in range(CARDS):
        state = factory.personalise(CardProfile(asn=(100 + n).to_bytes(8, "big")))
        state.ep_balance_fen = START_FEN
        cards.append(SimChannel(CardOS(state, rng=random.Random(n))))
    rng = random.Random(3)
    files = []
    for round_ in range(3):
        for k in range(15):
            terminal = rng.choice(terminals)
            terminal.purchase(rng.choice(cards), 50 + k, MOMENT + timedelta(minutes=round_ * 30 + k))
        files += [batch(t.journal.drain(), seq=round_ + 1) for t in terminals if len(t.journal)]
    spent = CARDS * START_FEN - sum(c.chip.state.ep_balance_fen for c in cards)  # type: ignore[attr-defined]
    return keys, files, terminal_ids, spent


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_upload_order_with_repeats_clears_each_record_once(
    data: st.DataObject,
    uploads: tuple[IssuerKeys, list[bytes], list[bytes], int],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    keys, files, terminal_ids, spent = uploads
    sequence = [files[i] for i in data.draw(st.permutations(range(len(files))))]
    repeats = data.draw(st.lists(st.tuples(st.sampled_from(range(len(files))), st.booleans()), max_size=4))
    resent_records = 0
    for n, (index, resend) in enumerate(repeats):
        if resend:
            # The terminal sends its journal again as a new upload: new bytes, old records.
            header, records = read_batch(files[index])
            copy = write_batch(header.terminal_id, header.psam_id, 100 + n, MOMENT, records)
            resent_records += len(records)
        else:
            copy = files[index]  # the very same file again: a no-op
        sequence.insert(data.draw(st.integers(0, len(sequence))), copy)
    back = office(tmp_path_factory.mktemp("prop"), keys)
    for terminal_id in terminal_ids:
        back.clearing.registry.register(TerminalEntry(terminal_id, terminal_id, "bus"))
    for n, raw in enumerate(sequence):
        back.clearing.ingest_file(raw, f"u{n}.ctb", CLEARING_DAY)
    held = back.clearing.held()
    # Whichever copy of a record came first clears; every later copy is a duplicate, and no gap
    # stays open once every upload is in.
    assert [reason for _, reason, _ in held] == ["duplicate"] * resent_records
    assert back.ledger.balance("float") == spent == -back.ledger.balance("payable:bus")
    db = back.ledger.db
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM records").fetchone() == (45, 45)
