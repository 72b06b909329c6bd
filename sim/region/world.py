"""The two cities of a region: each its issuer, keys, cards, buses, kiosk and clearing house.

A bus carries two PSAMs, as interoperable validators do: the home PSAM (the city's own
issuer's purchase keys) and an interoperable one holding the other issuers' purchase keys in
an `IssuerKeyRing`, selected by the card's issuer ID and key index. Each PSAM has its own
terminal ID and serial, so each issuer's house sees an unbroken serial sequence per PSAM
(model.backoffice.interchange, Limits). The bus reads the card's public file to pick the slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from devices.card_os import CardOS
from devices.factory import CardFactory, CardProfile
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import FeeSchedule, LoadHost, Participant, Registry, Sector, TerminalEntry
from model.backoffice.fees import DEFAULT_FEES, SectorFee
from model.backoffice.interchange import Inbox, Outbox
from model.card import CardChannel, open_epurse
from model.errors import CardTwinError
from model.records import NO_PSAM, TransactionRecord
from model.security import IssuerKeyRing, IssuerKeys, IssuerKeyStore, KeyUsage, generate_issuer_keys
from model.terminal import LoadTerminal, PurchaseTerminal
from scenarios.region_schema import CityScenario, RegionScenario
from sim.day.back_office import BackOffice

_PSAM_USAGES = frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE})
KIND_BUS, KIND_INTEROP, KIND_KIOSK = 0x02, 0x0A, 0x09


class VisitorRefused(CardTwinError):
    """A card of an issuer this terminal holds no keys of."""


def terminal_id(code: bytes, kind: int, n: int) -> bytes:
    return code[:2] + bytes((kind,)) + n.to_bytes(3, "big")


@dataclass(slots=True)
class Bus:
    """A validator with a home PSAM slot and an interoperable one."""

    home_issuer: bytes
    home: PurchaseTerminal
    interop: PurchaseTerminal
    interop_issuers: frozenset[bytes]
    hotlist: set[bytes] = field(default_factory=set)  # shared by both slots: what this bus received

    def slot(self, card: CardChannel) -> PurchaseTerminal:
        issuer = open_epurse(card).issuer_id
        if issuer == self.home_issuer:
            return self.home
        if issuer in self.interop_issuers:
            return self.interop
        raise VisitorRefused(f"terminal {self.home.terminal_id.hex()}: no keys of issuer {issuer.hex()}")

    def slots(self) -> tuple[PurchaseTerminal, PurchaseTerminal]:
        return self.home, self.interop


@dataclass(slots=True)
class City:
    spec: CityScenario
    keys: IssuerKeys
    office: BackOffice
    outbox: Outbox
    inbox: Inbox
    fees: FeeSchedule
    kiosk: LoadTerminal
    buses: list[Bus]
    cards: dict[bytes, CardOS] = field(default_factory=dict)  # this city's cards, by ASN
    batch_seqs: dict[bytes, int] = field(default_factory=dict)
    waiting: dict[bytes, list[TransactionRecord]] = field(default_factory=dict)  # not uploaded yet

    @property
    def code(self) -> bytes:
        return self.spec.code

    @property
    def bus_participant(self) -> str:
        return f"bus-{self.spec.name}"


def _registry(spec: CityScenario) -> Registry:
    bus, kiosk = f"bus-{spec.name}", f"kiosk-{spec.name}"
    terminals = [TerminalEntry(terminal_id(spec.code, KIND_KIOSK, 1), NO_PSAM, kiosk)]
    for n in range(1, spec.buses + 1):
        for kind in (KIND_BUS, KIND_INTEROP):
            tid = terminal_id(spec.code, kind, n)
            terminals.append(TerminalEntry(tid, tid, bus))
    return Registry(
        [
            Participant(bus, f"{spec.name} bus company", Sector.BUS, "ICBC"),
            Participant(kiosk, f"{spec.name} service window", Sector.LOAD, "HZB"),
        ],
        terminals,
    )


def fee_schedule(spec: CityScenario, interchange_fee_bp: int) -> FeeSchedule:
    fees = dict(DEFAULT_FEES)
    fees[Sector.BUS] = SectorFee(fee_bp=spec.bus_fee_bp)
    fees[Sector.INTERCHANGE] = SectorFee(fee_bp=interchange_fee_bp)
    return FeeSchedule(fees)


def build_city(s: RegionScenario, spec: CityScenario, partners: list[IssuerKeys], folder: Path) -> City:
    keys = next(k for k in partners if k.issuer_id == spec.issuer_id)
    others = [k for k in partners if k.issuer_id != spec.issuer_id]
    registry = _registry(spec)
    fees = fee_schedule(spec, s.interchange_fee_bp)
    office = BackOffice.open(folder / f"clearing-{spec.name}.sqlite", registry, keys, fees)
    outbox = Outbox(office.ledger, registry, spec.code, frozenset(k.issuer_id[:4] for k in others))
    inbox = Inbox(office.clearing, spec.code)
    home_store = IssuerKeyStore(keys, _PSAM_USAGES)
    ring = IssuerKeyRing([IssuerKeyStore(k, _PSAM_USAGES) for k in others])
    buses = []
    for n in range(1, spec.buses + 1):
        hotlist: set[bytes] = set()
        home = PurchaseTerminal(SimChannel(Psam(terminal_id(spec.code, KIND_BUS, n), home_store)), hotlist)
        interop = PurchaseTerminal(SimChannel(Psam(terminal_id(spec.code, KIND_INTEROP, n), ring)), hotlist)
        buses.append(Bus(spec.issuer_id, home, interop, frozenset(ring.issuer_ids), hotlist))
    host = LoadHost(IssuerKeyStore(keys), hotlist=office.hotlist)
    kiosk = LoadTerminal(terminal_id(spec.code, KIND_KIOSK, 1), host)
    return City(spec, keys, office, outbox, inbox, fees, kiosk, buses)


def issue_cards(city: City, count: int, first: int, day: date) -> list[bytes]:
    """Personalise `count` cards numbered from `first`; ASN = city code | serial."""
    factory = CardFactory(city.keys)
    asns = []
    for n in range(first, first + count):
        asn = city.code + n.to_bytes(4, "big")
        profile = CardProfile(asn=asn, start=date(day.year - 3, 1, 1), expiry=date(day.year + 7, 12, 31))
        city.cards[asn] = CardOS(factory.personalise(profile))
        asns.append(asn)
    return asns


def build_region(s: RegionScenario, folder: Path) -> list[City]:
    keys = [generate_issuer_keys(s.seed, c.issuer_id) for c in s.cities]
    return [build_city(s, spec, keys, folder) for spec in s.cities]
