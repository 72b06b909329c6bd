"""Shared fixtures: an issuer, a card factory, a PSAM-equipped purchase terminal, a load terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from devices.card_os import CardOS
from devices.card_state import CardState
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.crypto import Algorithm
from model.keys import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.load_host import LoadHost
from model.load_terminal import LoadTerminal
from model.purchase_terminal import PurchaseTerminal

ISSUER_ID = bytes.fromhex("3301000000000001")
MOMENT = datetime(2026, 11, 23, 8, 30, 0)


@pytest.fixture
def issuer_keys() -> IssuerKeys:
    return generate_issuer_keys(seed=7, issuer_id=ISSUER_ID)


@pytest.fixture
def factory(issuer_keys: IssuerKeys) -> CardFactory:
    return CardFactory(issuer_keys)


@pytest.fixture
def make_card(factory: CardFactory) -> Callable[..., tuple[CardOS, SimChannel]]:
    def make(
        asn_int: int = 1, algorithm: Algorithm = Algorithm.DES3, seed: int = 1, **profile: object
    ) -> tuple[CardOS, SimChannel]:
        state: CardState = factory.personalise(
            CardProfile(asn=asn_int.to_bytes(8, "big"), algorithm=algorithm, **profile)  # type: ignore[arg-type]
        )
        import random

        card = CardOS(state, rng=random.Random(seed))
        return card, SimChannel(card)

    return make


@pytest.fixture
def psam(issuer_keys: IssuerKeys) -> Psam:
    store = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    return Psam(bytes.fromhex("000000000101"), store)


@pytest.fixture
def purchase_terminal(psam: Psam) -> PurchaseTerminal:
    return PurchaseTerminal(SimChannel(psam))


@pytest.fixture
def load_host(issuer_keys: IssuerKeys) -> LoadHost:
    return LoadHost(IssuerKeyStore(issuer_keys))


@pytest.fixture
def load_terminal(load_host: LoadHost) -> LoadTerminal:
    return LoadTerminal(bytes.fromhex("000000000901"), load_host)
