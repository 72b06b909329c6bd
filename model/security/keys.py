"""Issuer keys, diversified card keys and the key store.

The issuer (the city card company) holds one master key per usage, algorithm and key index.
A card holds only its diversified keys, derived from the masters with its ASN; PSAMs and the
back office (load host, clearing house) re-derive a card's key through a `KeyStore` when they
need it. No terminal ever holds a master key: terminals only talk to their PSAM.
"""

from __future__ import annotations

import os
import random
import stat
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from model.errors import CardTwinError
from model.security.crypto import Algorithm, diversify


class KeyUsage(Enum):
    """What a key is for; the short names are those of JR/T 0025."""

    PURCHASE = "DPK"
    LOAD = "DLK"
    TAC = "DTK"
    MAINTENANCE = "DAMK"


class KeyStoreError(CardTwinError):
    """A key that the store does not hold, or a malformed key file."""


KEY_INDEX_DEFAULT = 1
_ALGORITHM_NAMES = {"3des": Algorithm.DES3, "sm4": Algorithm.SM4}
_ALGORITHM_FILE_NAMES = {algorithm: name for name, algorithm in _ALGORITHM_NAMES.items()}


@dataclass(frozen=True, slots=True)
class CardKeys:
    """The diversified keys a card is personalised with (16 bytes each)."""

    dpk: bytes
    dlk: bytes
    dtk: bytes
    damk: bytes
    key_index: int = KEY_INDEX_DEFAULT


class KeyStore(Protocol):
    """Where PSAMs and the back office get a card's key: derived on demand from the masters."""

    @property
    def issuer_id(self) -> bytes: ...

    def card_key(self, usage: KeyUsage, algorithm: Algorithm, key_index: int, asn: bytes) -> bytes:
        """The card key of `usage` for the card `asn`; raises KeyStoreError if not held."""
        ...


@dataclass(frozen=True, slots=True)
class IssuerKeys:
    """The issuer's master key set: one 16-byte key per (usage, algorithm, key index)."""

    issuer_id: bytes
    masters: dict[tuple[KeyUsage, Algorithm, int], bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.issuer_id) != 8:
            raise KeyStoreError(f"issuer id: {len(self.issuer_id)} bytes, expected 8")
        for (usage, algorithm, index), key in self.masters.items():
            if len(key) != 16:
                raise KeyStoreError(f"master key {usage.value}/{algorithm.name}/{index}: not 16 bytes")

    def master(self, usage: KeyUsage, algorithm: Algorithm, key_index: int) -> bytes:
        try:
            return self.masters[(usage, algorithm, key_index)]
        except KeyError:
            raise KeyStoreError(
                f"no master key {usage.value} for {algorithm.name} at key index {key_index}"
            ) from None

    def card_keys(self, asn: bytes, algorithm: Algorithm, key_index: int = KEY_INDEX_DEFAULT) -> CardKeys:
        """Diversify every master of this algorithm and index for one card."""
        keys = {u: diversify(algorithm, self.master(u, algorithm, key_index), asn) for u in KeyUsage}
        return CardKeys(
            dpk=keys[KeyUsage.PURCHASE],
            dlk=keys[KeyUsage.LOAD],
            dtk=keys[KeyUsage.TAC],
            damk=keys[KeyUsage.MAINTENANCE],
            key_index=key_index,
        )


class IssuerKeyStore:
    """A `KeyStore` over the issuer's master keys (the back office's host security module)."""

    def __init__(self, keys: IssuerKeys, usages: frozenset[KeyUsage] | None = None) -> None:
        # A PSAM store is limited to the usages a PSAM may hold (purchase, maintenance), and it
        # keeps only those masters: a PSAM opened in a lab must not yield the load or TAC master
        # (found by tests/test_security.py walking every terminal the world builds).
        self._usages = frozenset(KeyUsage) if usages is None else usages
        self._keys = IssuerKeys(
            keys.issuer_id, {k: v for k, v in keys.masters.items() if k[0] in self._usages}
        )

    @property
    def issuer_id(self) -> bytes:
        return self._keys.issuer_id

    def card_key(self, usage: KeyUsage, algorithm: Algorithm, key_index: int, asn: bytes) -> bytes:
        if usage not in self._usages:
            raise KeyStoreError(f"this key store may not derive {usage.value} keys")
        return diversify(algorithm, self._keys.master(usage, algorithm, key_index), asn)


ISSUERS_PER_RING_MAX = 64


class IssuerKeyRing:
    """Several issuers' key stores in one holder: an interoperable PSAM (互联互通) that accepts
    visiting cards. A card's key is selected by its issuer ID (the "second factor" the terminal
    reads from the card's public file) and then by key index inside that issuer's store; each
    city's issuer keeps its own masters. The first store is the holder's home issuer."""

    def __init__(self, stores: list[KeyStore]) -> None:
        if not 1 <= len(stores) <= ISSUERS_PER_RING_MAX:
            raise KeyStoreError(f"key ring: {len(stores)} issuers, allowed 1..{ISSUERS_PER_RING_MAX}")
        self._stores: dict[bytes, KeyStore] = {}
        for store in stores:
            if store.issuer_id in self._stores:
                raise KeyStoreError(f"key ring: issuer {store.issuer_id.hex()} given twice")
            self._stores[store.issuer_id] = store
        self.home: KeyStore = stores[0]

    @property
    def issuer_ids(self) -> tuple[bytes, ...]:
        return tuple(self._stores)

    def store(self, issuer_id: bytes) -> KeyStore | None:
        """The store of this issuer, or None when the ring holds none of its keys."""
        return self._stores.get(issuer_id)


def generate_issuer_keys(
    seed: int, issuer_id: bytes, key_indices: tuple[int, ...] = (KEY_INDEX_DEFAULT,)
) -> IssuerKeys:
    """A reproducible TEST master key set (both algorithms): never for real cards."""
    rng = random.Random(f"issuer-keys:{seed}:{issuer_id.hex()}")
    masters = {
        (usage, algorithm, index): rng.randbytes(16)
        for index in key_indices
        for algorithm in Algorithm
        for usage in KeyUsage
    }
    return IssuerKeys(issuer_id=issuer_id, masters=masters)


def _hex_field(table: dict[str, object], name: str, size: int, where: str) -> bytes:
    value = table.get(name)
    if not isinstance(value, str):
        raise KeyStoreError(f"{where}: '{name}' must be a hex string of {size} bytes")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise KeyStoreError(f"{where}: '{name}' is not hex: {value!r}") from None
    if len(raw) != size:
        raise KeyStoreError(f"{where}: '{name}' has {len(raw)} bytes, expected {size}")
    return raw


def load_issuer_keys(path: Path) -> IssuerKeys:
    """Read a key file (TOML): `issuer_id = "hex"` and `[[master]]` tables with usage
    (DPK/DLK/DTK/DAMK), algorithm (3des/sm4), index and key (32 hex digits)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyStoreError(f"{path}: cannot read key file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise KeyStoreError(f"{path}: not a TOML key file: {exc}") from None
    issuer_id = _hex_field(doc, "issuer_id", 8, str(path))
    masters: dict[tuple[KeyUsage, Algorithm, int], bytes] = {}
    entries = doc.get("master", [])
    if not isinstance(entries, list):
        raise KeyStoreError(f"{path}: 'master' must be an array of tables ([[master]])")
    first_seen: dict[tuple[KeyUsage, Algorithm, int], int] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: master #{number}"
        if not isinstance(entry, dict):
            raise KeyStoreError(f"{where}: must be a table")
        try:
            usage = KeyUsage(str(entry.get("usage", "")).upper())
        except ValueError:
            raise KeyStoreError(f"{where}: usage must be one of DPK, DLK, DTK, DAMK") from None
        algorithm = _ALGORITHM_NAMES.get(str(entry.get("algorithm", "")).lower())
        if algorithm is None:
            raise KeyStoreError(f"{where}: algorithm must be 3des or sm4")
        index = entry.get("index", KEY_INDEX_DEFAULT)
        if not isinstance(index, int) or not 0 < index < 256:
            raise KeyStoreError(f"{where}: index must be an integer 1..255")
        slot = (usage, algorithm, index)
        if slot in first_seen:
            raise KeyStoreError(
                f"{where}: {usage.value}/{_ALGORITHM_FILE_NAMES[algorithm]}/index {index} is given twice "
                f"(also master #{first_seen[slot]}): which one is meant cannot be guessed"
            )
        first_seen[slot] = number
        masters[slot] = _hex_field(entry, "key", 16, where)
    return IssuerKeys(issuer_id=issuer_id, masters=masters)


def require_usages(keys: IssuerKeys, usages: frozenset[KeyUsage], where: str) -> None:
    """KeyStoreError naming every missing master: each usage in `usages`, for every algorithm
    and key index the file holds any key of (and at least one of them)."""
    slots = sorted({(a, i) for _, a, i in keys.masters}) or [(Algorithm.DES3, KEY_INDEX_DEFAULT)]
    missing = [
        f"{u.value}/{_ALGORITHM_FILE_NAMES[a]}/index {i}"
        for a, i in slots
        for u in sorted(usages, key=lambda u: u.value)
        if (u, a, i) not in keys.masters
    ]
    if missing:
        raise KeyStoreError(f"{where}: no master key {', '.join(missing)} (needed to verify records)")


def key_file_warnings(path: Path) -> list[str]:
    """What is wrong with a key file's permissions: master keys readable by anyone on the machine."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        return [f"{path}: key file is readable by every user (mode {stat.S_IMODE(mode):o}); chmod 600 it"]
    return []


def write_issuer_keys(path: Path, keys: IssuerKeys) -> None:
    """Write the key file `load_issuer_keys` reads, mode 0600 from its first byte (test keys only)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(issuer_keys_toml(keys))
    except OSError as exc:
        raise KeyStoreError(f"{path}: cannot write key file: {exc.strerror}") from None


def issuer_keys_toml(keys: IssuerKeys) -> str:
    """The key file `load_issuer_keys` reads (test keys only: never write real ones)."""
    lines = [f'issuer_id = "{keys.issuer_id.hex()}"', ""]
    for (usage, algorithm, index), key in sorted(
        keys.masters.items(), key=lambda kv: (kv[0][0].value, kv[0][1], kv[0][2])
    ):
        lines += [
            "[[master]]",
            f'usage = "{usage.value}"',
            f'algorithm = "{_ALGORITHM_FILE_NAMES[algorithm]}"',
            f"index = {index}",
            f'key = "{key.hex()}"',
            "",
        ]
    return "\n".join(lines)
