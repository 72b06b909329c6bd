"""Shared fixtures: an issuer, a card factory, a PSAM-equipped purchase terminal, a load terminal."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devices.card_os import CardOS
from devices.card_state import CardState
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from hardware_bridge.vpcd import ServedChip, VpcdServer
from model.backoffice.load_host import LoadHost
from model.security.crypto import Algorithm
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.pcsc_stack import READERS, Pcscd, stop_stale_pcscd, wait_empty, wait_shown

ISSUER_ID = bytes.fromhex("3301000000000001")
MOMENT = datetime(2026, 11, 23, 8, 30, 0)

# One pcscd serves the whole machine, and starting ours stops any other: two test sessions at
# once (a developer's and a CI clone's) would kill each other's readers mid-test. The second
# session waits here until the first is done with the stack.
PCSC_LOCK_PATH = Path("/tmp/cardtwin-pcsc.lock")


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


# -- the real PC/SC stack (pcscd + vpcd) for the hardware-bridge tests ------------------------


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """A `pcscd --foreground` of our own for the whole session, with both vpcd readers up."""
    lock = PCSC_LOCK_PATH.open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    stop_stale_pcscd()
    daemon = Pcscd(tmp_path_factory.mktemp("pcscd") / "pcscd.log")
    try:
        daemon.wait_ready()
    except RuntimeError as exc:
        daemon.stop()
        lock.close()
        pytest.fail(f"cannot start the PC/SC stack: {exc}")
    yield daemon
    daemon.stop()
    lock.close()


@pytest.fixture
def serve(pcscd: Pcscd) -> Iterator[Callable[..., VpcdServer]]:
    """Serve chips on vpcd slots for one test; every server is stopped (card removed) after it."""
    servers: list[VpcdServer] = []

    def start(chip: ServedChip, slot: int = 0, **options: Any) -> VpcdServer:
        wait_empty(READERS[slot])
        server = VpcdServer(chip, slot, **options).start()
        servers.append(server)
        if server.inserted:
            wait_shown(READERS[slot], server.atr)
        return server

    yield start
    for server in servers:
        server.stop()
