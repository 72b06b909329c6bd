"""The simulated card operating system: an e-purse/ED application answering real APDUs.

`CardOS.process` takes command APDU bytes and returns response APDU bytes, like the chip.
It keeps two kinds of state:

- persistent (`CardState`): balances, counters, log, CAPP records, proofs, PIN tries, block flag;
- volatile (lost at power-off): the selected application, the verified PIN, the pending
  INITIALIZE and the last challenge.

A transaction changes persistent state in exactly one place, `_commit`, which applies balance,
counter, log, CAPP record and proof together. A failed command never reaches it. The tear hook
lets a test cut power just before or just after that commit; the terminal then sees no response.

Command rules (JT/T 978 / JR/T 0025, with our DECIDE choices in `model.card.apdu.SW`):
- The file tree (MF = PSE, its directory, the e-purse ADF) and the admin commands (CHANGE /
  RELOAD PIN, WRITE KEY) are laid out in `devices.card_files`; a failed SELECT leaves the
  current DF selected.
- Anything before SELECT of the e-purse AID answers 6985; a blocked application answers 6A81.
- A command whose answer is a fixed structure (SELECT's FCI, INITIALIZE, CREDIT, DEBIT, the
  proof) sent with an Le shorter than it answers Le bytes and 61xx; GET RESPONSE
  (`00 C0 00 00 Le`) then returns the rest (ISO 7816-4 5.3.4). Sent without Le (case 3, as
  `opensc-tool -s` and Chinese terminals send SELECT), it answers its data and 9000, as most
  T=1 cards do. READ BINARY / RECORD answer an Le longer than the file with 6Cxx.
- INITIALIZE prepares a transaction; any command other than its CREDIT/DEBIT (and, for CAPP,
  UPDATE CAPP DATA CACHE) cancels it, and CREDIT/DEBIT without it answers 6985.
- The ED purse (P2 = 01) needs VERIFY PIN since the last SELECT; PIN_TRIES_MAX wrong PINs block it.
- Each key whose MACs the card verifies (DPK: purchase MAC1, DLK: load MAC2, DAMK: APPLICATION
  BLOCK) has an error counter: `mac_errors_max` consecutive wrong MACs (default
  card_state.MAC_ERRORS_MAX) block the application; the blocking answer is 6A81, earlier ones 9302.
- The card checks the transaction date against its validity dates (6985 when outside).

Why this room is over 600 lines: one chip answers every command from one volatile session
(selection, verified PIN, pending INITIALIZE, challenge) that each handler reads and clears; the
file-system commands (SELECT by FID, the MF and PSE, PIN and key management) already live in
`devices.card_files`, and the purse commands are the next cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from devices import card_files as files
from devices.card_answers import fci, with_le
from devices.card_random import DerivedRandom, RandomSource
from devices.card_state import MAC_ERRORS_LIMIT, MAC_ERRORS_MAX, PIN_TRIES_MAX, CardState
from model.card import (
    CAPP_RECORD_SIZE,
    CAPP_RECORDS_MAX,
    LOG_RECORDS_MAX,
    SFI_CAPP,
    SFI_HOLDER,
    SFI_LOG,
    SFI_MANAGEMENT,
    SFI_PUBLIC,
    SW,
    command_fields,
    log_record,
    status,
)
from model.errors import ApduFormatError
from model.records import TxType
from model.security import (
    MacKey,
    load_mac1_data,
    load_mac2_data,
    load_session_seed,
    load_tac_data,
    maintenance_mac,
    purchase_mac1_data,
    purchase_mac2_data,
    purchase_session_seed,
    purchase_tac_data,
    session_mac_key,
    tac,
)

COUNTER_MAX = 0xFFFF
_PURSE_ED, _PURSE_EP = 0x01, 0x02
_INIT_LOAD, _INIT_PURCHASE, _INIT_CAPP = 0x00, 0x01, 0x03
_BLOCK_HEADER = bytes.fromhex("841E000004")
_KEY_DPK, _KEY_DLK, _KEY_DAMK = 0, 1, 2  # indices of CardState.mac_errors (card_state.MAC_KEYS)
_OK = status(SW.OK)  # (made once: most answers end with it)
_APP_BLOCKED = status(SW.APP_BLOCKED)


class TearPhase(Enum):
    """Where in a command the power can be cut."""

    BEFORE_COMMIT = "before"  # the card processed nothing persistent; no response
    AFTER_COMMIT = "after"  # the card committed; the response is lost


TearHook = Callable[[bytes, TearPhase], bool]


class PowerLost(Exception):
    """Raised out of `process` when the tear hook cut the power."""


@dataclass(slots=True)
class _Pending:
    """An INITIALIZE waiting for its CREDIT/DEBIT."""

    kind: int
    purse: int
    tx_type: int
    amount_fen: int
    terminal_id: bytes
    counter: int
    balance_fen: int
    random4: bytes
    capp_record: bytes = b""
    mac_key: MacKey | None = None  # a load's session MAC key, from INITIALIZE to CREDIT


class CardOS:
    """One card's chip: persistent state plus the volatile session of the current power-up."""

    __slots__ = (
        "_challenge",
        "_held",
        "_pending",
        "_pin_ok",
        "_selected",
        "mac_errors_max",
        "rng",
        "state",
        "tear_hook",
    )

    def __init__(
        self,
        state: CardState,
        rng: RandomSource | None = None,
        tear_hook: TearHook | None = None,
        mac_errors_max: int = MAC_ERRORS_MAX,
    ) -> None:
        assert 1 <= mac_errors_max <= MAC_ERRORS_LIMIT, (
            f"MAC error limit {mac_errors_max}: 1..{MAC_ERRORS_LIMIT}"
        )
        self.mac_errors_max = mac_errors_max
        self.state = state
        # Default random: derived from the card's identity and counters, so a run is reproducible
        # and no two transactions of one card share a random.
        self.rng: RandomSource = rng or DerivedRandom(
            state.asn
            + state.ep_online_counter.to_bytes(2, "big")
            + state.ep_offline_counter.to_bytes(2, "big")
            + state.ed_online_counter.to_bytes(2, "big")
            + state.ed_offline_counter.to_bytes(2, "big")
        )
        self.tear_hook = tear_hook
        self._selected = files.DF_NONE
        self._pin_ok = False
        self._pending: _Pending | None = None
        self._challenge = b""
        self._held = b""  # response data waiting for GET RESPONSE

    def power_on(self) -> None:
        """A new power-up (or reset): all volatile state is gone."""
        self._selected = files.DF_NONE
        self._pin_ok = False
        self._pending = None
        self._challenge = b""
        self._held = b""

    def process(self, raw: bytes) -> bytes:
        """Execute one command APDU and return the response APDU."""
        # Any command but CREDIT/DEBIT/UPDATE CAPP cancels a pending INITIALIZE.
        pending, self._pending = self._pending, None
        held, self._held = self._held, b""
        try:
            cla, ins, p1, p2, data, le = command_fields(raw)
        except ApduFormatError:
            return status(SW.WRONG_LENGTH)
        if ins == 0xC0 and cla == 0x00:
            self._pending = pending  # GET RESPONSE is transport: it cancels no INITIALIZE
            return self._get_response(p1, p2, data, le, held)
        tear_hook = self.tear_hook
        if tear_hook is not None and tear_hook(raw, TearPhase.BEFORE_COMMIT):
            self.power_on()
            raise PowerLost
        response = self._dispatch(cla, ins, p1, p2, data, le, pending)
        if tear_hook is not None and tear_hook(raw, TearPhase.AFTER_COMMIT):
            self.power_on()
            raise PowerLost
        if le is not None and le < len(response) - 2 and ins in _FIXED_ANSWERS and response[-2:] == _OK:
            # An Le shorter than the answer: Le bytes now, the rest waits for GET RESPONSE.
            self._held = response[le:-2]
            return response[:le] + status(0x6100 | (len(self._held) & 0xFF))
        return response

    def _get_response(self, p1: int, p2: int, data: bytes, le: int | None, held: bytes) -> bytes:
        if not held:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        self._held = held  # a GET RESPONSE that fails keeps the data for the next one
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if data or le is None:
            return status(SW.WRONG_LENGTH)
        if le == 256 or le == len(held):
            self._held = b""
            return held + _OK
        if le > len(held):
            return status(0x6C00 | len(held))
        self._held = held[le:]
        return held[:le] + status(0x6100 | (len(self._held) & 0xFF))

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(
        self,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes,
        le: int | None,
        pending: _Pending | None,
    ) -> bytes:
        handler = _HANDLERS.get(ins)
        if handler is None:
            return status(SW.INS_NOT_SUPPORTED if cla in (0x00, 0x80, 0x84) else SW.CLA_NOT_SUPPORTED)
        expected_cla, method = handler
        if cla != expected_cla:
            return status(SW.CLA_NOT_SUPPORTED)
        selected = self._selected
        if selected == files.DF_EPURSE and ins != 0xA4:  # (the tap's own commands: one test)
            return _APP_BLOCKED if self.state.blocked else method(self, p1, p2, data, le, pending)
        if ins == 0xA4:
            return self._select(p1, p2, data)
        if ins == 0xB2 and selected == files.DF_MF:
            return self._read_directory(p1, p2, data, le)
        return status(SW.CONDITIONS_NOT_SATISFIED)

    def _select(self, p1: int, p2: int, data: bytes) -> bytes:
        # A failed SELECT changes nothing: the current DF and its verified PIN stay.
        if p1 not in (0x00, 0x04) or p2 != 0x00:
            return status(SW.WRONG_P1P2)
        if (p1 == 0x04 and not 5 <= len(data) <= 16) or (p1 == 0x00 and len(data) not in (0, 2)):
            return status(SW.WRONG_LENGTH)
        target = files.select_target(p1, p2, data)
        if target is None:
            return status(SW.FILE_NOT_FOUND)
        if target == files.DF_EPURSE and self.state.blocked:
            return status(SW.APP_BLOCKED)
        self._selected = target
        self._pin_ok = False
        return fci(self.state.public) if target == files.DF_EPURSE else files.MF_FCI + _OK

    def _read_directory(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if p2 & 0x07 != 0x04:
            return status(SW.WRONG_P1P2)
        if data or le is None:
            return status(SW.WRONG_LENGTH)
        if p2 >> 3 != files.SFI_DIRECTORY:
            return status(SW.FILE_NOT_FOUND)
        if p1 != 1:
            return status(SW.RECORD_NOT_FOUND)
        return with_le(files.DIRECTORY_RECORD, le)

    # -- reading --------------------------------------------------------------------------

    def _read_binary(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if p1 & 0xE0 != 0x80:  # ISO 7816-4: P1 = 100 + SFI(5)
            return status(SW.WRONG_P1P2)
        files = {
            SFI_PUBLIC: self.state.public,
            SFI_HOLDER: self.state.holder,
            SFI_MANAGEMENT: self.state.management,
        }
        content = files.get(p1 & 0x1F)
        if content is None:
            return status(SW.FILE_NOT_FOUND)
        if data or le is None:
            return status(SW.WRONG_LENGTH)
        if p2 >= len(content):
            return status(SW.WRONG_OFFSET)
        return with_le(content[p2:], le)

    def _read_record(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if p2 & 0x07 != 0x04:
            return status(SW.WRONG_P1P2)
        if data or le is None:
            return status(SW.WRONG_LENGTH)
        sfi = p2 >> 3
        if sfi == SFI_LOG:
            if not 1 <= p1 <= len(self.state.log):
                return status(SW.RECORD_NOT_FOUND)
            return with_le(self.state.log[p1 - 1], le)
        if sfi == SFI_CAPP:
            for record in self.state.capp:
                if record[0] == p1:
                    return with_le(record, le)
            return status(SW.RECORD_NOT_FOUND)
        return status(SW.FILE_NOT_FOUND)

    def _get_balance(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if p1 != 0 or p2 not in (_PURSE_ED, _PURSE_EP):
            return status(SW.WRONG_P1P2)
        if data or le != 4:
            return status(SW.WRONG_LENGTH)
        if p2 == _PURSE_ED and not self._pin_ok:
            return status(SW.SECURITY_NOT_SATISFIED)
        balance = self.state.ed_balance_fen if p2 == _PURSE_ED else self.state.ep_balance_fen
        return balance.to_bytes(4, "big", signed=True) + _OK

    def _verify_pin(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if not 2 <= len(data) <= 6:
            return status(SW.WRONG_LENGTH)
        state = self.state
        if state.pin_tries_left == 0:
            return status(SW.PIN_BLOCKED)
        if data != state.pin:
            # The try counter is persistent: a power cut cannot reset it.
            state.pin_tries_left -= 1
            self._pin_ok = False
            return status(0x63C0 | state.pin_tries_left)
        state.pin_tries_left = PIN_TRIES_MAX
        self._pin_ok = True
        return _OK

    # -- transactions ---------------------------------------------------------------------

    def _initialize(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if p1 not in (_INIT_LOAD, _INIT_PURCHASE, _INIT_CAPP) or p2 not in (_PURSE_ED, _PURSE_EP):
            return status(SW.WRONG_P1P2)
        if p1 == _INIT_CAPP and p2 != _PURSE_EP:
            return status(SW.WRONG_P1P2)
        if len(data) != 11:
            return status(SW.WRONG_LENGTH)
        if p2 == _PURSE_ED and not self._pin_ok:
            return status(SW.SECURITY_NOT_SATISFIED)
        state = self.state
        if data[0] != state.key_index:
            return status(SW.KEY_INDEX_UNSUPPORTED)
        amount = int.from_bytes(data[1:5], "big")
        terminal_id = data[5:11]
        ed = p2 == _PURSE_ED
        balance = state.ed_balance_fen if ed else state.ep_balance_fen
        random4 = self.rng.randbytes(4)
        if p1 == _INIT_LOAD:
            counter = state.ed_online_counter if ed else state.ep_online_counter
            if amount == 0:
                return status(SW.WRONG_DATA)
            if balance + amount > state.max_balance_fen:
                return status(SW.NO_ROOM)
            if counter >= COUNTER_MAX:
                return status(SW.COUNTER_EXHAUSTED)
            tx_type = TxType.ED_LOAD if ed else TxType.EP_LOAD
            sk = session_mac_key(state.algorithm, state.dlk, load_session_seed(random4, counter))
            mac1 = sk.mac(load_mac1_data(balance, amount, tx_type, terminal_id))
            self._pending = _Pending(
                p1, p2, tx_type, amount, terminal_id, counter, balance, random4, mac_key=sk
            )
            return (
                balance.to_bytes(4, "big", signed=True)
                + counter.to_bytes(2, "big")
                + bytes((state.key_index, state.algorithm))
                + random4
                + mac1
                + _OK
            )
        counter = state.ed_offline_counter if ed else state.ep_offline_counter
        if amount > balance + state.overdraft_limit_fen:
            return status(SW.INSUFFICIENT_BALANCE)
        if counter >= COUNTER_MAX:
            return status(SW.COUNTER_EXHAUSTED)
        if p1 == _INIT_CAPP:
            tx_type = TxType.CAPP_PURCHASE
        else:
            tx_type = TxType.ED_PURCHASE if ed else TxType.EP_PURCHASE
        self._pending = _Pending(p1, p2, tx_type, amount, terminal_id, counter, balance, random4)
        return (
            balance.to_bytes(4, "big", signed=True)
            + counter.to_bytes(2, "big")
            + state.overdraft_limit_fen.to_bytes(3, "big")
            + bytes((state.key_index, state.algorithm))
            + random4
            + _OK
        )

    def _update_capp(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if pending is None or pending.kind != _INIT_CAPP:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if p2 != SFI_CAPP << 3 or p1 == 0:
            return status(SW.WRONG_P1P2)
        if len(data) != CAPP_RECORD_SIZE:
            return status(SW.WRONG_LENGTH)
        if data[0] != p1:
            return status(SW.WRONG_DATA)
        known = any(record[0] == p1 for record in self.state.capp)
        if not known and len(self.state.capp) >= CAPP_RECORDS_MAX:
            return status(SW.NO_ROOM)
        pending.capp_record = data
        self._pending = pending
        return _OK

    def _credit_for_load(
        self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None
    ) -> bytes:
        if pending is None or pending.kind != _INIT_LOAD:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if len(data) != 11:
            return status(SW.WRONG_LENGTH)
        state = self.state
        date_time, mac2 = data[0:7], data[7:11]
        if not self._valid_on(date_time):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        sk = pending.mac_key
        assert sk is not None, "INITIALIZE FOR LOAD leaves its session MAC key"
        expected = sk.mac(load_mac2_data(pending.amount_fen, pending.tx_type, pending.terminal_id, date_time))
        if mac2 != expected:
            return self._mac_failed(_KEY_DLK)
        self._mac_ok(_KEY_DLK)
        balance_after = pending.balance_fen + pending.amount_fen
        tac_value = tac(
            state.algorithm,
            state.dtk,
            load_tac_data(
                balance_after,
                pending.counter,
                pending.amount_fen,
                pending.tx_type,
                pending.terminal_id,
                date_time,
            ),
        )
        proof = bytes((pending.tx_type,)) + pending.counter.to_bytes(2, "big") + mac2 + tac_value
        self._commit(pending, balance_after, date_time, proof)
        return tac_value + _OK

    def _debit_for_purchase(
        self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None
    ) -> bytes:
        if pending is None or pending.kind not in (_INIT_PURCHASE, _INIT_CAPP):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if (p1, p2) != (0x01, 0x00):
            return status(SW.WRONG_P1P2)
        if len(data) != 15:
            return status(SW.WRONG_LENGTH)
        state = self.state
        serial = int.from_bytes(data[0:4], "big")
        date_time, mac1 = data[4:11], data[11:15]
        if not self._valid_on(date_time):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        sk = session_mac_key(
            state.algorithm, state.dpk, purchase_session_seed(pending.random4, pending.counter, serial)
        )
        expected = sk.mac(
            purchase_mac1_data(pending.amount_fen, pending.tx_type, pending.terminal_id, date_time)
        )
        if mac1 != expected:
            return self._mac_failed(_KEY_DPK)
        self._mac_ok(_KEY_DPK)
        tac_value = tac(
            state.algorithm,
            state.dtk,
            purchase_tac_data(pending.amount_fen, pending.tx_type, pending.terminal_id, serial, date_time),
        )
        mac2 = sk.mac(purchase_mac2_data(pending.amount_fen))
        proof = bytes((pending.tx_type,)) + pending.counter.to_bytes(2, "big") + mac2 + tac_value
        self._commit(pending, pending.balance_fen - pending.amount_fen, date_time, proof)
        return tac_value + mac2 + _OK

    def _commit(self, pending: _Pending, balance_after: int, date_time: bytes, proof: bytes) -> None:
        """The one place a transaction changes the card: all of it, or (on a tear before) none."""
        state = self.state
        entry = log_record(
            pending.counter,
            state.overdraft_limit_fen,
            pending.amount_fen,
            pending.tx_type,
            pending.terminal_id,
            date_time,
        )
        log = (entry, *state.log[: LOG_RECORDS_MAX - 1])
        ed = pending.purse == _PURSE_ED
        if pending.kind == _INIT_LOAD:
            if ed:
                state.ed_balance_fen, state.ed_online_counter = balance_after, pending.counter + 1
            else:
                state.ep_balance_fen, state.ep_online_counter = balance_after, pending.counter + 1
            state.log, state.proof_load = log, proof
            return
        capp = state.capp
        if pending.capp_record:
            rid = pending.capp_record[0]
            capp = (*(r for r in capp if r[0] != rid), pending.capp_record)
        if ed:
            state.ed_balance_fen, state.ed_offline_counter = balance_after, pending.counter + 1
        else:
            state.ep_balance_fen, state.ep_offline_counter = balance_after, pending.counter + 1
        state.log, state.capp, state.proof_purchase = log, capp, proof

    def _get_proof(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        if p1 != 0 or p2 not in tuple(TxType):
            return status(SW.WRONG_P1P2)
        if len(data) != 2:
            return status(SW.WRONG_LENGTH)
        proof = self.state.proof_load if TxType(p2).is_load else self.state.proof_purchase
        if not proof or proof[0] != p2 or proof[1:3] != data:
            return status(SW.PROOF_UNAVAILABLE)
        return proof[3:7] + proof[7:11] + _OK

    # -- maintenance ----------------------------------------------------------------------

    def _get_challenge(
        self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None
    ) -> bytes:
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if data or le != 4:
            return status(SW.WRONG_LENGTH)
        self._challenge = self.rng.randbytes(4)
        return self._challenge + _OK

    def _application_block(
        self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None
    ) -> bytes:
        challenge, self._challenge = self._challenge, b""
        if (p1, p2) != (0, 0):
            return status(SW.WRONG_P1P2)
        if len(data) != 4:
            return status(SW.WRONG_LENGTH)
        if not challenge:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        state = self.state
        if data != maintenance_mac(state.algorithm, state.damk, challenge, _BLOCK_HEADER):
            return self._mac_failed(_KEY_DAMK)
        self._mac_ok(_KEY_DAMK)
        state.blocked = True
        self._selected = files.DF_NONE
        return _OK

    def _pin_admin(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        """CHANGE PIN (P1 01) and RELOAD PIN (P1 00): layouts in `devices.card_files`."""
        challenge, self._challenge = self._challenge, b""
        sw = files.pin_admin(self.state, p1, p2, data, challenge)
        if sw & 0xFFF0 == 0x63C0:
            self._pin_ok = False  # a wrong old PIN withdraws the verification, as VERIFY does
        return status(sw)

    def _write_key(self, p1: int, p2: int, data: bytes, le: int | None, pending: _Pending | None) -> bytes:
        challenge, self._challenge = self._challenge, b""
        return status(files.write_key(self.state, p1, p2, data, challenge))

    def _mac_failed(self, key: int) -> bytes:
        """A wrong MAC under `key`: counted on the card (it persists, as an EEPROM counter
        does); the one that reaches the limit blocks the application and answers 6A81, so the
        terminal gets CardBlockedError instead of one more MacInvalidError."""
        state = self.state
        errors = list(state.mac_errors)
        errors[key] = min(MAC_ERRORS_LIMIT, errors[key] + 1)
        state.mac_errors = (errors[0], errors[1], errors[2])
        if errors[key] >= self.mac_errors_max:
            state.blocked = True
            self._selected = files.DF_NONE
            return status(SW.APP_BLOCKED)
        return status(SW.MAC_INVALID)

    def _mac_ok(self, key: int) -> None:
        if self.state.mac_errors[key]:
            errors = list(self.state.mac_errors)
            errors[key] = 0
            self.state.mac_errors = (errors[0], errors[1], errors[2])

    def _valid_on(self, date_time: bytes) -> bool:
        # BCD YYYYMMDD compares as bytes in date order.
        day = date_time[0:4]
        return self.state.public[20:24] <= day <= self.state.public[24:28]


_FIXED_ANSWERS = frozenset({0xA4, 0x50, 0x52, 0x54, 0x5A})  # INS whose answer GET RESPONSE can split


_Handler = Callable[[CardOS, int, int, bytes, "int | None", "_Pending | None"], bytes]
_HANDLERS: dict[int, tuple[int, _Handler]] = {
    0xA4: (0x00, lambda *args: b""),  # SELECT: handled before the selection check
    0xB0: (0x00, CardOS._read_binary),
    0xB2: (0x00, CardOS._read_record),
    0x20: (0x00, CardOS._verify_pin),
    0x84: (0x00, CardOS._get_challenge),
    0x5C: (0x80, CardOS._get_balance),
    0x50: (0x80, CardOS._initialize),
    0x52: (0x80, CardOS._credit_for_load),
    0x54: (0x80, CardOS._debit_for_purchase),
    0xDC: (0x80, CardOS._update_capp),
    0x5A: (0x80, CardOS._get_proof),
    0x1E: (0x84, CardOS._application_block),
    0x5E: (0x80, CardOS._pin_admin),
    0xD4: (0x84, CardOS._write_key),
}
