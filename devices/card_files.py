"""The card's file tree above the e-purse application, and its admin command formats.

JT/T 978 cards answer the terminals of many cities, and Chinese terminals reach the e-purse
three ways: SELECT by name of the application (`00 A4 04 00 08 A000000632010105`), SELECT by
file ID of the application (`00 A4 00 00 02 1001`), or through the MF first (`00 A4 00 00 02
3F00`, or by its name `1PAY.SYS.DDF01`, the PBOC payment system environment). The tree:

```
MF 3F00  "1PAY.SYS.DDF01"  (the PSE DDF; FCI names directory file SFI 01)
  EF SFI 01  directory: record 1 = 70 { 61 { 4F AID, 50 label } }
  ADF 1001  A000000632010105  (the e-purse / ED application, files 15 16 17 18 1A)
```

Project decisions (README "Cards in readers"):
- the MF is the PSE DDF (one DF answers both the FID 3F00 and the name 1PAY.SYS.DDF01), as on
  PBOC 2.0 e-purse cards;
- a SELECT that fails leaves the current DF (and a verified PIN) as they were (ISO 7816-4
  7.1.1: the current file changes only when a selection succeeds); a blocked application
  answers 6A81 and is not selected;
- CHANGE PIN is `80 5E 01 00 Lc old FF new` (JR/T 0025 part 2: wrong old PIN counts a try);
  RELOAD PIN (the unblock) is `80 5E 00 00 Lc new MAC`, the MAC being the maintenance MAC of
  the header and the new PIN under the card's maintenance key with the last GET CHALLENGE;
- WRITE KEY is `84 D4 00 KT 14 key(16) MAC(4)`, KT 01 purchase, 02 load, 03 TAC, 04
  maintenance; the MAC (as RELOAD PIN) is under the current maintenance key. A test card: the
  key travels in plain (a production card takes it enciphered under the maintenance key).
"""

from __future__ import annotations

from devices.card_state import PIN_TRIES_MAX, CardState
from model.card import EPURSE_AID, SW
from model.security import maintenance_mac

PSE_NAME = b"1PAY.SYS.DDF01"
FID_MF = bytes.fromhex("3F00")
FID_EPURSE = bytes.fromhex("1001")
SFI_DIRECTORY = 0x01
DIRECTORY_LABEL = b"JTT978 EPURSE"
PIN_SEPARATOR = 0xFF
PIN_LEN_MIN, PIN_LEN_MAX = 2, 6
KEY_LEN = 16
MAC_LEN = 4
# WRITE KEY's P2 -> the key's offset in CardState.keys (DPK | DLK | DTK | DAMK).
KEY_SLOTS = {0x01: 0, 0x02: 16, 0x03: 32, 0x04: 48}

DF_NONE, DF_MF, DF_EPURSE = 0, 1, 2


def _tlv(tag: int, value: bytes) -> bytes:
    assert len(value) < 0x80, "short-form TLV lengths only"
    return bytes((tag, len(value))) + value


def mf_fci() -> bytes:
    """The MF (PSE) FCI: 6F { 84 DF name, A5 { 88 SFI of the directory } }."""
    return _tlv(0x6F, _tlv(0x84, PSE_NAME) + _tlv(0xA5, _tlv(0x88, bytes((SFI_DIRECTORY,)))))


def directory_record() -> bytes:
    """Record 1 of the PSE directory: the e-purse application's entry."""
    return _tlv(0x70, _tlv(0x61, _tlv(0x4F, EPURSE_AID) + _tlv(0x50, DIRECTORY_LABEL)))


MF_FCI = mf_fci()
DIRECTORY_RECORD = directory_record()


def select_target(p1: int, p2: int, data: bytes) -> int | None:
    """Which DF a SELECT names (DF_MF, DF_EPURSE), None when it names none; the caller has
    checked P1/P2 and the length."""
    if p1 == 0x04:
        if data == EPURSE_AID:
            return DF_EPURSE
        return DF_MF if data == PSE_NAME else None
    if not data or data == FID_MF:
        return DF_MF
    return DF_EPURSE if data == FID_EPURSE else None


def split_change_pin(data: bytes) -> tuple[bytes, bytes] | None:
    """(old, new) of CHANGE PIN's `old FF new`, None when malformed."""
    if data.count(PIN_SEPARATOR) != 1:
        return None
    old, new = data.split(bytes((PIN_SEPARATOR,)))
    if not (PIN_LEN_MIN <= len(old) <= PIN_LEN_MAX and PIN_LEN_MIN <= len(new) <= PIN_LEN_MAX):
        return None
    return old, new


def pin_admin(state: CardState, p1: int, p2: int, data: bytes, challenge: bytes) -> int:
    """CHANGE PIN (P1 01) or RELOAD PIN (P1 00) on `state`; the status word."""
    if p1 not in (0x00, 0x01) or p2 != 0:
        return SW.WRONG_P1P2
    if p1 == 0x01:
        pins = split_change_pin(data)
        if pins is None:
            return SW.WRONG_LENGTH
        old, new = pins
        if state.pin_tries_left == 0:
            return SW.PIN_BLOCKED
        if old != state.pin:
            state.pin_tries_left -= 1  # persistent: a power cut cannot reset it
            return 0x63C0 | state.pin_tries_left
        state.pin, state.pin_tries_left = new, PIN_TRIES_MAX
        return SW.OK
    new, mac4 = data[:-MAC_LEN], data[-MAC_LEN:]
    if not PIN_LEN_MIN <= len(new) <= PIN_LEN_MAX:
        return SW.WRONG_LENGTH
    if not challenge:
        return SW.CONDITIONS_NOT_SATISFIED
    header = bytes((0x80, 0x5E, p1, p2, len(data)))
    if mac4 != maintenance_mac(state.algorithm, state.damk, challenge, header + new):
        return SW.MAC_INVALID
    state.pin, state.pin_tries_left = new, PIN_TRIES_MAX
    return SW.OK


def write_key(state: CardState, p1: int, p2: int, data: bytes, challenge: bytes) -> int:
    """WRITE KEY on `state`: the key slot P2 gets the new key if the MAC holds; the status word."""
    offset = KEY_SLOTS.get(p2)
    if p1 != 0 or offset is None:
        return SW.WRONG_P1P2
    if len(data) != KEY_LEN + MAC_LEN:
        return SW.WRONG_LENGTH
    if not challenge:
        return SW.CONDITIONS_NOT_SATISFIED
    key, mac4 = data[:KEY_LEN], data[KEY_LEN:]
    header = bytes((0x84, 0xD4, p1, p2, len(data)))
    if mac4 != maintenance_mac(state.algorithm, state.damk, challenge, header + key):
        return SW.MAC_INVALID
    state.keys = state.keys[:offset] + key + state.keys[offset + KEY_LEN :]
    return SW.OK
