"""What a bank card transaction costs and who earns it: the merchant discount by merchant class,
its split between issuer, acquirer and switch, the billers' fee per bill, and an acquirer's
revenue-sharing agreement.

ASSUMPTION (facts from outside the seeds, per the reference: China's bank card fee rules before
2016): the rate by merchant class in basis points (`DISCOUNT_BP`), split issuer : acquirer :
switch = 7 : 2 : 1. Rounding: fee = floor(amount * bp / 10000); issuer floor(fee * 7/10),
switch floor(fee / 10), the acquirer the rest, so no fen is lost to rounding.

Billers (merchant class `utilities`) pay no discount; DECIDE: a convenience-payment acquirer is
paid by the biller instead, a fixed fee per bill (`Tariff.biller_fee_fen`, capped at the bill),
kept from what the biller is paid. An acquirer with a revenue-sharing agreement
(`Tariff.shares`: "whoever invests benefits", seed 002) passes `partner_bp` of its income on
every record to its partner; the partner's part is floor, the acquirer keeps the rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from model.errors import CardTwinError

# ASSUMPTION: pre-2016 discount rates by merchant class (public services at zero).
DISCOUNT_BP: Mapping[str, int] = MappingProxyType(
    {
        "catering": 200,
        "general": 100,
        "supermarket": 50,
        "transport": 0,
        "utilities": 0,
        "public": 0,
    }
)
BILLER_CLASS = "utilities"
SHARE_ISSUER_TENTHS, SHARE_SWITCH_TENTHS = 7, 1  # the acquirer: the remaining 2 and rounding
BP_MAX = 10_000
BILLER_FEE_FEN_MAX = 10_000  # CNY 100 a bill: more is a typo, not a tariff


class TariffError(CardTwinError):
    """A tariff that cannot be right: a rate outside 0..10000 bp, an unknown class, a bad share."""


@dataclass(frozen=True, slots=True)
class Share:
    """An acquirer's revenue-sharing agreement: `partner` gets `partner_bp` of its income."""

    partner: str
    partner_bp: int


@dataclass(frozen=True, slots=True)
class Fees:
    """One record's money: who gets what (fen). `payee_fen` is what the merchant or biller gets."""

    issuer_fen: int
    acquirer_fen: int
    switch_fen: int
    partner_fen: int
    payee_fen: int


@dataclass(frozen=True, slots=True)
class Tariff:
    """The discount rates, the 7:2:1 split, the biller fee and the acquirers' agreements."""

    discount_bp: Mapping[str, int] = field(default_factory=lambda: DISCOUNT_BP)
    biller_fee_fen: int = 0
    shares: Mapping[str, Share] = field(default_factory=dict)  # acquirer -> its agreement

    def __post_init__(self) -> None:
        for merchant_class, bp in self.discount_bp.items():
            if not 0 <= bp <= BP_MAX:
                raise TariffError(f"tariff: {merchant_class} discount {bp} bp outside 0..{BP_MAX}")
        if not 0 <= self.biller_fee_fen <= BILLER_FEE_FEN_MAX:
            raise TariffError(f"tariff: biller fee {self.biller_fee_fen} fen outside 0..{BILLER_FEE_FEN_MAX}")
        for acquirer, share in self.shares.items():
            if not 0 <= share.partner_bp <= BP_MAX or not share.partner or share.partner == acquirer:
                raise TariffError(
                    f"tariff: acquirer {acquirer}'s share {share} is not a partner and 0..10000 bp"
                )

    def check_class(self, merchant_class: str, where: str) -> None:
        if merchant_class not in self.discount_bp:
            raise TariffError(f"{where}: merchant class {merchant_class!r} unknown")

    def fees(self, amount_fen: int, merchant_class: str, acquirer: str) -> Fees:
        """Who gets what of a record of `amount_fen` at a merchant of `merchant_class`."""
        self.check_class(merchant_class, f"acquirer {acquirer}")
        issuer_fen, acquirer_fen, switch_fen = split_fee(amount_fen, self.discount_bp[merchant_class])
        biller_fee = min(self.biller_fee_fen, amount_fen) if merchant_class == BILLER_CLASS else 0
        income = acquirer_fen + biller_fee
        share = self.shares.get(acquirer)
        partner_fen = income * share.partner_bp // BP_MAX if share else 0
        payee_fen = amount_fen - issuer_fen - acquirer_fen - switch_fen - biller_fee
        out = Fees(issuer_fen, income - partner_fen, switch_fen, partner_fen, payee_fen)
        assert (
            out.issuer_fen + out.acquirer_fen + out.switch_fen + out.partner_fen + out.payee_fen == amount_fen
        )
        return out


def split_fee(amount_fen: int, bp: int) -> tuple[int, int, int]:
    """(issuer, acquirer, switch) shares of the merchant discount of `bp` on `amount_fen`."""
    fee = amount_fen * bp // BP_MAX
    issuer = fee * SHARE_ISSUER_TENTHS // 10
    switch = fee * SHARE_SWITCH_TENTHS // 10
    return issuer, fee - issuer - switch, switch
