"""The participant registry: who owns each terminal, in which sector, settled by which bank.

The clearing house settles money to participants, never to terminals: a bus validator's
records are owed to its transport company, a shop POS's to its merchant, a recharge kiosk's
loads are owed *by* whoever collected the money (a service window's cash, a bank's 圈存). The
mapping is data, given to the clearing house; a batch from a terminal not in it is quarantined.

File form (TOML):

    [[participant]]
    id = "bus-hz"          # unique
    name = "Hangzhou Public Transport"
    sector = "bus"         # bus, metro, taxi, retail, utilities, load, transfer, interchange
    bank = "ICBC"          # the bank the participant is settled through

    [[terminal]]
    id = "330100000201"    # 6 bytes hex, as in the records
    psam = "330100000201"  # the PSAM installed; "000000000000" for a load terminal
    participant = "bus-hz"
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from model.errors import CardTwinError

PARTICIPANTS_MAX = 100_000
TERMINALS_MAX = 1_000_000


class RegistryError(CardTwinError):
    """A registry file or entry that cannot be used."""


class Sector(Enum):
    BUS = "bus"
    METRO = "metro"
    TAXI = "taxi"
    RETAIL = "retail"
    UTILITIES = "utilities"
    LOAD = "load"  # recharge points: they collect money for the float, they are not paid
    TRANSFER = "transfer"  # the operator's balance transfers (card replacement): no money moves
    INTERCHANGE = "interchange"  # another city's acquirer, paid visiting cards' takings (interchange)


@dataclass(frozen=True, slots=True)
class Participant:
    participant_id: str
    name: str
    sector: Sector
    bank: str


@dataclass(frozen=True, slots=True)
class TerminalEntry:
    terminal_id: bytes
    psam_id: bytes
    participant_id: str


class Registry:
    """Participants and terminals; lookups by terminal ID."""

    def __init__(self, participants: list[Participant], terminals: list[TerminalEntry]) -> None:
        if len(participants) > PARTICIPANTS_MAX or len(terminals) > TERMINALS_MAX:
            raise RegistryError(
                f"registry: more than {PARTICIPANTS_MAX} participants or {TERMINALS_MAX} terminals"
            )
        self.participants: dict[str, Participant] = {}
        for participant in participants:
            if participant.participant_id in self.participants:
                raise RegistryError(f"registry: participant {participant.participant_id!r} twice")
            self.participants[participant.participant_id] = participant
        self.terminals: dict[bytes, TerminalEntry] = {}
        for terminal in terminals:
            self.register(terminal)

    def register(self, terminal: TerminalEntry) -> None:
        """Add a terminal (a new deployment, or one found by its quarantined batch)."""
        if len(self.terminals) >= TERMINALS_MAX:
            raise RegistryError(f"registry: {TERMINALS_MAX} terminals registered")
        if len(terminal.terminal_id) != 6 or len(terminal.psam_id) != 6:
            raise RegistryError(f"registry: terminal {terminal.terminal_id.hex()}: IDs must be 6 bytes")
        if terminal.terminal_id in self.terminals:
            raise RegistryError(f"registry: terminal {terminal.terminal_id.hex()} twice")
        if terminal.participant_id not in self.participants:
            raise RegistryError(
                f"registry: terminal {terminal.terminal_id.hex()} names unknown participant "
                f"{terminal.participant_id!r}"
            )
        self.terminals[terminal.terminal_id] = terminal

    def owner(self, terminal_id: bytes) -> Participant | None:
        entry = self.terminals.get(terminal_id)
        return None if entry is None else self.participants[entry.participant_id]

    def banks(self) -> list[str]:
        return sorted({p.bank for p in self.participants.values()})

    def to_toml(self) -> str:
        lines: list[str] = []
        for p in self.participants.values():
            lines += [
                "[[participant]]",
                f"id = {_toml_text(p.participant_id)}",
                f"name = {_toml_text(p.name)}",
                f'sector = "{p.sector.value}"',
                f"bank = {_toml_text(p.bank)}",
                "",
            ]
        for t in self.terminals.values():
            lines += [
                "[[terminal]]",
                f'id = "{t.terminal_id.hex()}"',
                f'psam = "{t.psam_id.hex()}"',
                f"participant = {_toml_text(t.participant_id)}",
                "",
            ]
        return "\n".join(lines)


def _toml_text(text: str) -> str:
    # A TOML basic string takes JSON's escapes, so quotes and backslashes in names survive.
    return json.dumps(text, ensure_ascii=False)


def _text(entry: dict[str, object], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise RegistryError(f"{where}: '{name}' must be a non-empty string")
    return value


def _id6(entry: dict[str, object], name: str, where: str) -> bytes:
    text = _text(entry, name, where)
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise RegistryError(f"{where}: '{name}' is not hex: {text!r}") from None
    if len(raw) != 6:
        raise RegistryError(f"{where}: '{name}' has {len(raw)} bytes, expected 6")
    return raw


def load_registry(path: Path) -> Registry:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read registry: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not a TOML registry: {exc}") from None
    participants: list[Participant] = []
    for number, entry in enumerate(doc.get("participant", []), start=1):
        where = f"{path}: participant #{number}"
        if not isinstance(entry, dict):
            raise RegistryError(f"{where}: must be a table")
        try:
            sector = Sector(_text(entry, "sector", where))
        except ValueError:
            raise RegistryError(f"{where}: sector must be one of {[s.value for s in Sector]}") from None
        participants.append(
            Participant(
                _text(entry, "id", where), _text(entry, "name", where), sector, _text(entry, "bank", where)
            )
        )
    terminals: list[TerminalEntry] = []
    for number, entry in enumerate(doc.get("terminal", []), start=1):
        where = f"{path}: terminal #{number}"
        if not isinstance(entry, dict):
            raise RegistryError(f"{where}: must be a table")
        terminals.append(
            TerminalEntry(
                _id6(entry, "id", where), _id6(entry, "psam", where), _text(entry, "participant", where)
            )
        )
    return Registry(participants, terminals)
