"""Issue 13, defects 4 and 5: key files checked on load, a night with wrong keys stopped before
it posts, forged-tac holds re-verified with corrected keys; files sized before they are read,
one bad file never stopping the others."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.backoffice import BATCH_BYTES_MAX, ClearingError, Reason
from model.security import (
    KeyStoreError,
    KeyUsage,
    generate_issuer_keys,
    issuer_keys_toml,
    key_file_warnings,
    load_issuer_keys,
    require_usages,
    write_issuer_keys,
)
from model.security.keys import IssuerKeys
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import CLEARING_DAY, batch, office
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]


def _rides(make_card: Maker, terminal: PurchaseTerminal, cards: int) -> list[bytes]:
    """One batch per card, 3 rides each: enough records for the key check to judge."""
    out = []
    for n in range(cards):
        card, channel = make_card(asn_int=n + 1)
        card.state.ep_balance_fen = 10_000
        rides = [terminal.purchase(channel, 182, MOMENT + timedelta(minutes=10 * n + k)) for k in range(3)]
        out.append(batch(rides, seq=n + 1))
    return out


def test_a_duplicated_master_is_named_and_a_missing_tac_master_refused(
    issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    text = issuer_keys_toml(issuer_keys)
    first = text[text.index("[[master]]") : text.index("[[master]]", text.index("[[master]]") + 1)]
    path = tmp_path / "keys.toml"
    path.write_text(text + "\n" + first, encoding="utf-8")
    count = text.count("[[master]]")
    with pytest.raises(
        KeyStoreError, match=f"master #{count + 1}: DAMK/3des/index 1 is given twice \\(also master #1\\)"
    ):
        load_issuer_keys(path)
    bare = generate_issuer_keys(1, issuer_keys.issuer_id)
    no_tac = type(bare)(bare.issuer_id, {k: v for k, v in bare.masters.items() if k[0] is not KeyUsage.TAC})
    with pytest.raises(KeyStoreError, match="no master key DTK/3des/index 1, DTK/sm4/index 1"):
        require_usages(no_tac, frozenset({KeyUsage.TAC}), "keys.toml")
    require_usages(bare, frozenset({KeyUsage.TAC}), "keys.toml")


def test_key_files_are_written_0600_and_a_world_readable_one_warns(
    issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    path = tmp_path / "keys.toml"
    path.write_text("old", encoding="utf-8")
    os.chmod(path, 0o644)
    write_issuer_keys(path, issuer_keys)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert key_file_warnings(path) == []
    assert load_issuer_keys(path) == issuer_keys
    os.chmod(path, 0o644)
    assert key_file_warnings(path) == [f"{path}: key file is readable by every user (mode 644); chmod 600 it"]


def test_a_night_with_the_wrong_keys_stops_before_posting_and_names_the_key_file(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n, raw in enumerate(_rides(make_card, purchase_terminal, 3)):
        (inbox / f"{n:03d}.ctb").write_bytes(raw)
    wrong = office(tmp_path, generate_issuer_keys(99, issuer_keys.issuer_id))
    with pytest.raises(
        ClearingError, match=r"^wrong-keys\.toml: all 9 sampled records of issuer .* fail their TAC"
    ):
        wrong.ingest_dir(inbox, CLEARING_DAY, "wrong-keys.toml")
    assert wrong.ledger.db.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
    wrong.close()
    right = office(tmp_path, issuer_keys)
    assert sum(r.posted for r in right.ingest_dir(inbox, CLEARING_DAY, "keys.toml")) == 9
    assert right.ledger.balance("payable:bus") == -9 * 182


def test_forged_tac_holds_made_by_wrong_keys_are_released_by_re_verifying_with_the_right_ones(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    wrong = office(tmp_path, generate_issuer_keys(99, issuer_keys.issuer_id))
    raws = _rides(make_card, purchase_terminal, 1)  # too few records for the night's key check
    report = wrong.clearing.ingest_file(raws[0], "bus.ctb", CLEARING_DAY)
    assert [r for r, _ in report.quarantined] == [Reason.FORGED_TAC] * 3
    assert wrong.clearing.release_reverified(CLEARING_DAY) == []  # the same wrong keys: nothing
    wrong.close()
    right = office(tmp_path, issuer_keys)
    assert right.clearing.ingest_file(raws[0], "bus.ctb", CLEARING_DAY).already_ingested
    assert right.clearing.release_reverified(CLEARING_DAY) == [1, 2, 3]
    assert right.clearing.held() == [] and right.ledger.balance("payable:bus") == -3 * 182


def test_a_file_over_the_size_limit_is_not_read_and_the_others_clear(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "000-huge.ctb").write_bytes(b"")
    os.truncate(inbox / "000-huge.ctb", BATCH_BYTES_MAX + 1)  # sparse: no disk spent
    (inbox / "001-bus.ctb").write_bytes(_rides(make_card, purchase_terminal, 1)[0])
    back = office(tmp_path, issuer_keys)
    huge, bus = back.ingest_dir(inbox, CLEARING_DAY)
    assert huge.quarantined == [
        (
            Reason.CORRUPT_BATCH,
            f"000-huge.ctb: {BATCH_BYTES_MAX + 1} bytes, a batch file has at most {BATCH_BYTES_MAX}: "
            "not read",
        )
    ]
    assert bus.posted == 3 and back.ledger.balance("payable:bus") == -3 * 182
    assert (inbox / "000-huge.ctb").exists()  # left for a person, nothing lost
