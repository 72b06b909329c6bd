"""The bank-card day's places: the real terminals (`Tills`) and, in SimPy time, the queues at
them and the hosts an online message occupies (`Places`).

Each till kind of each acquirer is one `simpy.Resource` whose capacity is the sample's share of
its terminals: `ceil(holders x weight / HOLDERS_PER_TILL)`, at least 1, where the weight is the
bank's card share for a bank's own tills and 1 for the third party's. A cardholder holds the
till for the transaction's service time (`SERVICE_S`) and the real transaction runs when that
time is up, so money moves in the order the tills finish. An online transaction (ARQC to the
issuer: bank POS, bills, an EC purchase that goes online, loads and unloads) then occupies a
line of its acquirer, of the switch and of the issuing bank in turn for their host times: the
terminal code calls them synchronously, so their time is charged after the call, and a busy
host makes the cardholder wait, not the money.

ASSUMPTION throughout (no timing or terminal density of Huaibei's banks is in the seeds): the
service times are a PIN purchase with its receipt, a tap, a bill looked up and paid, a load
at a self-service point; the densities are 300,000 cards over 2,500 convenience terminals and
250 load points ([HB] plan) and a bank POS or reader every few dozen holders.
"""

from __future__ import annotations

import math

import simpy

from model.bankcard import BankPos, ConvenienceTerminal, EcLoadTerminal, QpbocReader
from scenarios.bank_schema import BankCity
from sim.bankcity.world import BankWorld

SERVICE_S = {
    "bank-pos": 25.0,  # card in, PIN, online answer, receipt
    "contactless": 0.5,  # qPBOC tap
    "convenience": 6.0,  # EC purchase at a convenience terminal
    "bills": 60.0,  # bill looked up by account number, confirmed, paid
    "load": 40.0,  # 圈存 at a self-service load point
    "unload": 40.0,  # 圈提 at the same point
}
TILL_OF = {
    "bank-pos": "pos",
    "contactless": "qpboc",
    "convenience": "conv",
    "bills": "conv",
    "load": "load",
    "unload": "load",
}
HOLDERS_PER_TILL = {"pos": 40, "qpboc": 60, "conv": 120, "load": 1_200}
HOST_LINES = {"acquirer": 8, "switch": 16, "issuer": 8}  # messages in flight at once
HOST_S = {"acquirer": 0.1, "switch": 0.15, "issuer": 0.3}


class Tills:
    """The day's real terminals, one per (role, acquirer), made when first used."""

    def __init__(self, world: BankWorld, seed: int) -> None:
        self.world, self.seed = world, seed
        self._pos: dict[str, BankPos] = {}
        self._qpboc: dict[str, QpbocReader] = {}
        self._conv: ConvenienceTerminal | None = None
        self._load: dict[str, EcLoadTerminal] = {}

    def pos(self, acquirer: str) -> BankPos:
        if acquirer not in self._pos:
            authoriser, ca = self.world.acquirers[acquirer], self.world.ca_keys
            self._pos[acquirer] = BankPos(f"POS-{acquirer}", authoriser, self.seed, ca)
        return self._pos[acquirer]

    def qpboc(self, acquirer: str) -> QpbocReader:
        if acquirer not in self._qpboc:
            authoriser, ca = self.world.acquirers[acquirer], self.world.ca_keys
            self._qpboc[acquirer] = QpbocReader(f"QP-{acquirer}", authoriser, self.seed, ca)
        return self._qpboc[acquirer]

    def convenience(self) -> ConvenienceTerminal:
        if self._conv is None:
            tp = self.world.third_party
            self._conv = ConvenienceTerminal(f"CONV-{tp}", self.world.acquirers[tp], self.seed)
            self._conv.pos.ca_keys = self.world.ca_keys
        return self._conv

    def load_point(self, bank: str) -> EcLoadTerminal:
        if bank not in self._load:
            self._load[bank] = EcLoadTerminal(f"EC-{bank}", self.world.acquirers[f"acq:{bank}"], self.seed)
        return self._load[bank]


class Places:
    """The SimPy resources of one day: tills by (kind, acquirer), hosts by name."""

    def __init__(self, env: simpy.Environment, city: BankCity) -> None:
        self.env = env
        self._holders = city.run.cardholders_simulated
        self._share = {f"acq:{b.name}": b.card_share for b in city.bank}
        self._tills: dict[tuple[str, str], simpy.Resource] = {}
        self.acquirer_hosts: dict[str, simpy.Resource] = {}
        self.issuer_hosts: dict[str, simpy.Resource] = {}
        self.switch = simpy.Resource(env, HOST_LINES["switch"])

    def till(self, kind: str, acquirer: str) -> simpy.Resource:
        key = (TILL_OF[kind], acquirer)
        if key not in self._tills:
            self._tills[key] = simpy.Resource(self.env, self.capacity(*key))
        return self._tills[key]

    def capacity(self, till: str, acquirer: str) -> int:
        weight = self._share.get(acquirer, 1.0)
        return max(1, math.ceil(self._holders * weight / HOLDERS_PER_TILL[till]))

    def acquirer_host(self, name: str) -> simpy.Resource:
        if name not in self.acquirer_hosts:
            self.acquirer_hosts[name] = simpy.Resource(self.env, HOST_LINES["acquirer"])
        return self.acquirer_hosts[name]

    def issuer_host(self, bank: str) -> simpy.Resource:
        if bank not in self.issuer_hosts:
            self.issuer_hosts[bank] = simpy.Resource(self.env, HOST_LINES["issuer"])
        return self.issuer_hosts[bank]
