"""What the financial-card HIL suite runs against, and the state its cases share.

The suite (`hardware_bridge.bank_cases`) sees only `CardChannel`s: the card's contact interface
and, when there is one, its contactless interface (a dual-interface card: one card, one ATC,
one EC balance, reached through two readers). The issuing bank behind it is the real
`model.bankcard.IssuerHost` with the master keys the caller gives (the keys the card was
personalised from), reached through the real `Acquirer` and `Switch`, as a bank POS reaches it.
The issuer opens the card's account when the suite first reads its PAN, and takes the card's
EC balance then as EC money it issued (its EC float), so the suite's last case can clear every
transaction and check that no fen was created, lost or doubled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import model.bankcard.kernel as k
import model.bankcard.objects as t
from hardware_bridge.hil import HilCheckError, ResponseLoss, check, lossy_card
from model.bankcard import Acquirer, IssuerHost, IssuerMasterKeys, PublicKey, Switch, cvr_of, decode_pan
from model.bankcard.bcd import decode_n
from model.card import CardChannel
from model.card.tlv import find

ACCOUNT_FEN_DEFAULT = 1_000_000  # the QA cardholder's bank account: CNY 10,000
EC_LOAD_FEN_DEFAULT = 1_000
PURCHASE_FEN_DEFAULT = 150
ONLINE_PURCHASE_FEN_DEFAULT = 12_345
NETWORK_BANK = "QA-ISSUER"


@dataclass(slots=True)
class BankHilTarget:
    """The card (its interfaces), the issuer's keys, and the amounts the cases move."""

    card: CardChannel
    keys: IssuerMasterKeys  # what the card was personalised from (the issuer's view)
    pin: str  # the card's offline PIN, digits
    contactless: CardChannel | None = None  # None: the qPBOC case is skipped
    ca_keys: dict[int, PublicKey] | None = None  # the terminals' CA keys: with them, ODA and fDDA
    loss: ResponseLoss | None = None  # None: the suite wraps the card in a LosingChannel
    moment: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    load_fen: int = EC_LOAD_FEN_DEFAULT
    purchase_fen: int = PURCHASE_FEN_DEFAULT
    online_fen: int = ONLINE_PURCHASE_FEN_DEFAULT
    account_fen: int = ACCOUNT_FEN_DEFAULT


@dataclass(frozen=True, slots=True)
class Cleared:
    """A transaction whose TC the issuer checks and clears at the end of the run."""

    what: str
    kind: str  # "online" or "ec-offline" (as `BankRecord.kind`)
    atc: int
    amount_fen: int
    tc: bytes
    data: bytes  # what the TC covers: DOL data || AIP || ATC || CVR


class BankRun:
    """The state the bank cases share: the network, the card's identity, the clock."""

    def __init__(self, target: BankHilTarget) -> None:
        self.target = target
        self.card, self.loss = lossy_card(target.card, target.loss)
        self.issuer = IssuerHost(target.keys)
        self.acquirer: Acquirer | None = None
        self.pan, self.pan_sequence = "", 0
        self.total_fen_start = 0
        self.to_clear: list[Cleared] = []
        self.atcs: list[int] = []  # every ATC a case saw the card use, in order
        self.steps = 0

    def now(self) -> datetime:
        self.steps += 1  # every transaction gets its own minute
        return self.target.moment + timedelta(minutes=self.steps)

    def unpredictable(self) -> bytes:
        return self.steps.to_bytes(2, "big") + b"\x5a\xa5"

    def network(self) -> Acquirer:
        """The acquirer in front of the switch and the issuer; the card's account opened on
        first use (its PAN read from SFI 1 record 1, its EC balance as the issuer's float)."""
        if self.acquirer is not None:
            return self.acquirer
        k.select_application(self.card)
        raw = k.send(self.card, bytes.fromhex("00B2010C00"), "READ RECORD")
        pan_raw = find(raw, t.TAG_PAN)
        check(pan_raw is not None, "SFI 1 record 1 holds no PAN 5A")
        assert pan_raw is not None
        self.pan = decode_pan(pan_raw)
        self.pan_sequence = decode_n(find(raw, t.TAG_PAN_SEQUENCE) or b"\x00", "5F34")
        self.issuer.open_account(self.pan, self.target.account_fen)
        self.issuer.ec_float_fen = k.get_amount(self.card, t.TAG_EC_BALANCE)
        self.total_fen_start = self.issuer.total_fen()
        self.acquirer = Acquirer(
            "QA-ACQUIRER", Switch({NETWORK_BANK: self.issuer}, {self.pan[:6]: NETWORK_BANK})
        )
        return self.acquirer

    def account_fen(self) -> int:
        return self.issuer.accounts_fen[self.pan]

    def ec_balance(self, card: CardChannel | None = None) -> int:
        channel = card or self.card
        k.select_application(channel)
        return k.get_amount(channel, t.TAG_EC_BALANCE)

    def atc(self) -> int:
        k.select_application(self.card)
        return k.get_atc(self.card)

    def saw_atc(self, atc: int) -> None:
        self.atcs.append(atc)

    def clear_later(self, what: str, kind: str, atc: int, amount_fen: int, tc: bytes, dol_data: bytes,
                    aip: bytes, iad: bytes) -> None:  # fmt: skip
        self.to_clear.append(
            Cleared(what, kind, atc, amount_fen, tc, dol_data + aip + atc.to_bytes(2, "big") + cvr_of(iad))
        )

    def tc_verifies(self, atc: int, tc: bytes, data: bytes) -> bool:
        return self.issuer.tc_verifies(self.pan, self.pan_sequence, atc, tc, data)

    def no_holds(self, what: str) -> None:
        if self.issuer.holds:
            raise HilCheckError(f"{what}: the issuer still holds {sorted(self.issuer.holds)}")
