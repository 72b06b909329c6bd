"""The bank-card city at the start of a sample day: five issuing banks with their cardholders'
accounts, the switch, the acquirers, the billers, and the simulated cardholders' cards at rest.

Only the sample (`cardholders_simulated`) is built, each card personalised from its bank's
test master keys (`IssuerMasterKeys.generate`, seeded) and kept as its 118-byte image; a card
becomes a `BankCardOS` only for a transaction (`with_card`). Every bank's EC float starts as
the EC money on its cards (funded at issuance), so `IssuerHost.total_fen` summed over the
banks is the cardholders' money wherever it is, and stays constant through the day.

Acquirers, DECIDE: each bank acquires the bank POS of its own merchants (`acq:<bank>`, the
merchant's bank drawn by the card mix), and the third-party acquirer (`[acquirer] name`)
acquires every convenience terminal, its purchases and its bills.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from devices.bankcard_oda import OdaKeys, personalise_oda
from devices.bankcard_os import AIP, BankCardOS
from devices.bankcard_state import BankCardState, personalise
from devices.sim_channel import SimChannel
from model.bankcard import (
    Acquirer,
    Biller,
    IssuerHost,
    IssuerMasterKeys,
    IssuerPki,
    PublicKey,
    Share,
    Switch,
    Tariff,
    TestCa,
    icc_key_pool,
)
from scenarios.bank_schema import BankCity
from sim.rng import stream

BILLERS = ("water", "electricity", "gas", "telecom", "cable-tv")  # [HB] phase 1 utilities
PIN = "123456"
MERCHANTS_PER_CLASS = 20  # ASSUMPTION: a sample day's merchants of one class (names only)
ICC_KEYS_PER_BANK = 4  # the sample's cards share a few RSA pairs per bank (model.bankcard.icc_key_pool)
# (bank k's cards take pool slots 4k..4k+3, so the first eight banks share no card key)


@functools.cache
def test_pki(banks: tuple[tuple[str, str], ...]) -> tuple[TestCa, dict[str, IssuerPki]]:
    """The test CA and each bank's RSA key (fixture slot: its place in the scenario) with its
    CA certificate, once per process."""
    ca = TestCa()
    issuers = {}
    for slot, (name, bin_) in enumerate(banks):
        issuers[name] = IssuerPki(bin_, slot=slot)
        ca.certify_issuer(issuers[name])
    return ca, issuers


def luhn_digit(digits: str) -> str:
    """The ISO/IEC 7812 check digit of `digits`."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def pan_of(bin_: str, holder: int) -> str:
    body = bin_ + f"{holder:0{15 - len(bin_)}d}"
    return body + luhn_digit(body)


@dataclass(slots=True)
class BankWorld:
    issuers: dict[str, IssuerHost]
    switch: Switch
    acquirers: dict[str, Acquirer]  # "acq:<bank>" and the third party
    billers: dict[str, Biller]
    tariff: Tariff
    images: list[bytes]  # the sample's cards at rest
    bank_of_holder: list[str]
    third_party: str
    oda: list[OdaKeys]  # each card's certificates and key (personalisation data beside the image)
    ca_keys: dict[int, PublicKey]  # what every terminal holds
    initial_fen: int = 0
    apdus: int = 0
    _open: set[int] = field(default_factory=set)

    def money_fen(self) -> int:
        """The cardholders' money wherever it is (accounts, holds, EC float, spent)."""
        return sum(issuer.total_fen() for issuer in self.issuers.values())

    def ec_on_cards_fen(self) -> dict[str, int]:
        out = dict.fromkeys(self.issuers, 0)
        for bank, image in zip(self.bank_of_holder, self.images, strict=True):
            out[bank] += BankCardState.from_image(image).ec_balance_fen
        return out

    @contextmanager
    def with_card(
        self, holder: int, contactless: bool = False, tear_hook: Callable[..., bool] | None = None
    ) -> Iterator[SimChannel]:
        """The holder's card in a field (a reader's antenna, or contacts) for one transaction;
        its image is written back after."""
        assert holder not in self._open, "one card in one field at a time"
        state = BankCardState.from_image(self.images[holder])
        chip = BankCardOS(state, tear_hook=tear_hook, contactless=contactless, oda=self.oda[holder])
        channel = _CountingChannel(chip, self)
        self._open.add(holder)
        try:
            yield channel
        finally:
            self._open.discard(holder)
            self.images[holder] = chip.state.to_image()


_ODA_CACHE: dict[tuple[int, str], OdaKeys] = {}
ODA_CACHE_MAX = 100_000


def _oda(bank_slot: int, holder: int, state: BankCardState, pki: IssuerPki) -> OdaKeys:
    """The card's certificates, made once per process per (bank slot, PAN): a sample's holder k
    of a bank has the same PAN, expiry and so static data on every sample day."""
    key = (bank_slot, state.pan)
    if key not in _ODA_CACHE:
        if len(_ODA_CACHE) >= ODA_CACHE_MAX:
            _ODA_CACHE.clear()
        card_key = icc_key_pool(bank_slot * ICC_KEYS_PER_BANK + holder % ICC_KEYS_PER_BANK)
        _ODA_CACHE[key] = personalise_oda(state, pki, card_key, AIP)
    return _ODA_CACHE[key]


class _CountingChannel(SimChannel):
    """The in-process reader slot, counting the APDUs the world's cards answer."""

    def __init__(self, chip: BankCardOS, world: BankWorld) -> None:
        super().__init__(chip)
        self._world = world

    def transmit(self, command: bytes) -> bytes:
        self._world.apdus += 1
        return super().transmit(command)


def build_world(city: BankCity, seed: int) -> BankWorld:
    """The sample's banks, network and cards under `seed`."""
    rng = stream(seed, "bankcity/cardholders")
    names = [b.name for b in city.bank]
    n = city.run.cardholders_simulated
    draws = rng.choice(len(names), size=n, p=np.array([b.card_share for b in city.bank]))
    accounts = rng.exponential(city.cards.account_fen_mean, size=n).astype(np.int64)
    c = city.cards
    ec_high = min(2 * c.ec_balance_fen_mean, c.ec_balance_limit_fen)
    ec = rng.integers(0, ec_high + 1, size=n)
    keys = {b.name: IssuerMasterKeys.generate(seed, b.name) for b in city.bank}
    issuers = {name: IssuerHost(keys[name]) for name in names}
    bins = {b.bin: b.name for b in city.bank}
    switch = Switch(issuers, bins)
    ca, pki = test_pki(tuple((b.name, b.bin) for b in city.bank))
    images, bank_of_holder, oda = [], [], []
    for holder in range(n):
        bank = city.bank[int(draws[holder])]
        pan = pan_of(bank.bin, holder)
        state = personalise(
            keys[bank.name],
            pan,
            0,
            PIN,
            ec_balance_fen=int(ec[holder]),
            ec_balance_limit_fen=c.ec_balance_limit_fen,
            ec_single_limit_fen=c.ec_single_limit_fen,
            ec_reset_threshold_fen=c.ec_reset_threshold_fen,
        )
        issuers[bank.name].open_account(pan, int(accounts[holder]))
        issuers[bank.name].ec_float_fen += int(ec[holder])  # funded when it was loaded
        images.append(state.to_image())
        bank_of_holder.append(bank.name)
        oda.append(_oda(int(draws[holder]), holder, state, pki[bank.name]))
    a = city.acquirer
    acquirers = {f"acq:{name}": Acquirer(f"acq:{name}", switch) for name in names}
    acquirers[a.name] = Acquirer(a.name, switch)
    shares = {a.name: Share(a.partner, a.partner_bp)} if a.partner_bp else {}
    tariff = Tariff(city.tariff.discount_bp(), city.tariff.biller_fee_fen, shares)
    billers = {b: Biller(b) for b in BILLERS}
    ca_keys = {ca.index: ca.keys.public}
    world = BankWorld(
        issuers, switch, acquirers, billers, tariff, images, bank_of_holder, a.name, oda, ca_keys
    )
    world.initial_fen = world.money_fen()
    return world
