"""The simulated PSAM: the terminal's secure access module for purchases.

A PSAM holds the issuer's purchase (and application-maintenance) master keys and diversifies
a card's key inside itself, so the terminal software never sees a key. It numbers every MAC1
it issues with its 4-byte terminal transaction serial; the serial goes into the card's TAC and
the record, and lets the back office find gaps per PSAM.

Commands (DECIDE where the sources leave it open):
- READ BINARY SFI 16 (`00 B0 96 00 06`): the terminal ID, readable before any selection.
- SELECT the purchase application by FID 1001 (`00 A4 00 00 02 1001`); the rest need it.
- INIT SAM FOR PURCHASE `80 70 00 00 24`: the "second factor" must equal the issuer ID (we
  diversify once, see model.security.crypto.diversify), else 6A80. A PSAM given an
  `IssuerKeyRing` (an interoperable PSAM) selects the issuer's store by that factor, then the
  key by key index: any issuer it holds keys of, 6A80 for any other.
- CREDIT SAM FOR PURCHASE `80 72 00 00 04`: verifies MAC2 of the last INIT SAM; 9000 or 9302.
- CIPHER DATA `80 FA 05 00 13`: key index(1) | algorithm(1) | ASN(8) | challenge(4) |
  command header(5) -> the MAC of an APPLICATION BLOCK for that card. It refuses any header but
  APPLICATION BLOCK's, so the PSAM cannot be used as a MAC oracle for other commands. It
  blocks the home issuer's cards only (the ring's first store): a visiting card is blocked
  by its own issuer's hotlist at its own terminals.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.card import SW, command_fields, status
from model.errors import ApduFormatError
from model.security import (
    Algorithm,
    IssuerKeyRing,
    KeyStore,
    KeyStoreError,
    KeyUsage,
    MacKey,
    maintenance_mac,
    purchase_mac1_data,
    purchase_mac2_data,
    purchase_session_seed,
    session_mac_key,
)

PSAM_ADF_FID = bytes.fromhex("1001")
PSAM_SFI_TERMINAL_ID = 0x16
SERIAL_MAX = 0xFFFFFFFF
_BLOCK_HEADER = bytes.fromhex("841E000004")
_OK = status(SW.OK)
_ALGORITHMS = {int(a): a for a in Algorithm}  # (made once: most answers end with it)


@dataclass(slots=True)
class _Session:
    sk: MacKey  # the session key, ready for the MAC2 check
    amount_fen: int


class Psam:
    """One PSAM: terminal ID, serial counter, and the key store it derives card keys from."""

    def __init__(self, terminal_id: bytes, key_store: KeyStore | IssuerKeyRing, serial: int = 0) -> None:
        if len(terminal_id) != 6:
            raise ValueError(f"PSAM terminal ID: {len(terminal_id)} bytes, expected 6")
        self.terminal_id = terminal_id
        self.serial = serial
        self._ring = key_store if isinstance(key_store, IssuerKeyRing) else IssuerKeyRing([key_store])
        self._selected = False
        self._session: _Session | None = None

    def power_on(self) -> None:
        self._selected = False
        self._session = None

    def process(self, raw: bytes) -> bytes:
        try:
            cla, ins, p1, p2, data, _le = command_fields(raw)
        except ApduFormatError:
            return status(SW.WRONG_LENGTH)
        if cla == 0x00 and ins == 0xB0:
            if p1 != 0x80 | PSAM_SFI_TERMINAL_ID or p2 != 0:
                return status(SW.WRONG_P1P2)
            return self.terminal_id + _OK
        if cla == 0x00 and ins == 0xA4:
            self._selected = (p1, p2, data) == (0, 0, PSAM_ADF_FID)
            return status(SW.OK if self._selected else SW.FILE_NOT_FOUND)
        if cla != 0x80:
            return status(SW.CLA_NOT_SUPPORTED)
        if ins not in (0x70, 0x72, 0xFA):
            return status(SW.INS_NOT_SUPPORTED)
        if not self._selected:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        session, self._session = self._session, None
        if ins == 0x70:
            return self._init_sam_for_purchase(p1, p2, data)
        if ins == 0x72:
            return self._credit_sam_for_purchase(p1, p2, data, session)
        return self._cipher_data(p1, p2, data)

    def _card_key(
        self, store: KeyStore, usage: KeyUsage, algorithm_id: int, key_index: int, asn: bytes
    ) -> bytes | None:
        try:
            return store.card_key(usage, _ALGORITHMS[algorithm_id], key_index, asn)
        except (KeyStoreError, KeyError):
            return None

    def _init_sam_for_purchase(self, p1: int, p2: int, data: bytes) -> bytes:
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if len(data) != 36:
            return status(SW.WRONG_LENGTH)
        random4, counter = data[0:4], int.from_bytes(data[4:6], "big")
        amount = int.from_bytes(data[6:10], "big")
        tx_type, date_time = data[10], data[11:18]
        key_index, algorithm_id = data[18], data[19]
        asn, second_factor = data[20:28], data[28:36]
        store = self._ring.store(second_factor)
        if store is None:
            return status(SW.WRONG_DATA)
        dpk = self._card_key(store, KeyUsage.PURCHASE, algorithm_id, key_index, asn)
        if dpk is None:
            return status(SW.KEY_INDEX_UNSUPPORTED)
        if self.serial >= SERIAL_MAX:
            return status(SW.COUNTER_EXHAUSTED)
        serial = self.serial
        algorithm = _ALGORITHMS[algorithm_id]  # (known: _card_key found its key)
        sk = session_mac_key(algorithm, dpk, purchase_session_seed(random4, counter, serial))
        mac1 = sk.mac(purchase_mac1_data(amount, tx_type, self.terminal_id, date_time))
        # The serial is spent once MAC1 leaves the PSAM, used by the card or not.
        self.serial = serial + 1
        self._session = _Session(sk, amount)
        return serial.to_bytes(4, "big") + mac1 + _OK

    def _credit_sam_for_purchase(self, p1: int, p2: int, data: bytes, session: _Session | None) -> bytes:
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if len(data) != 4:
            return status(SW.WRONG_LENGTH)
        if session is None:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        expected = session.sk.mac(purchase_mac2_data(session.amount_fen))
        return status(SW.OK if data == expected else SW.MAC_INVALID)

    def _cipher_data(self, p1: int, p2: int, data: bytes) -> bytes:
        if (p1, p2) != (0x05, 0x00):
            return status(SW.WRONG_P1P2)
        if len(data) != 19:
            return status(SW.WRONG_LENGTH)
        key_index, algorithm_id, asn = data[0], data[1], data[2:10]
        challenge, header = data[10:14], data[14:19]
        if header != _BLOCK_HEADER:
            return status(SW.WRONG_DATA)
        damk = self._card_key(self._ring.home, KeyUsage.MAINTENANCE, algorithm_id, key_index, asn)
        if damk is None:
            return status(SW.KEY_INDEX_UNSUPPORTED)
        return maintenance_mac(Algorithm(algorithm_id), damk, challenge, header) + _OK
