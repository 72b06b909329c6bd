"""The simulated financial IC card: a PBOC 2.0 debit application with electronic cash (EC).

`BankCardOS.process` takes a command APDU and returns the response APDU, like the chip; it is a
`devices.sim_channel.Chip`, so a `SimChannel` puts it behind the `CardChannel`. Persistent state
is a `BankCardState`; the session (selected file, GPO data, the first cryptogram, verified PIN,
issuer authenticated) is volatile and gone at power-off.

A command changes persistent state only after every check passed, in one step: GET PROCESSING
OPTIONS counts the ATC, VERIFY the PIN tries, an offline TC debits the EC balance, PUT DATA
writes an EC value. The tear hook (`devices.card_os.TearHook`) may cut the power at every APDU
boundary, before the command (nothing happens) or after it (it happened, the answer is lost).

Card risk rules, DECIDE (JR/T 0025 leaves them to the issuer):
- GPO with `9F7A` = 01 (the terminal supports EC), the CNY currency and an amount within the EC
  balance and the single-transaction limit marks the transaction EC-eligible.
- First GENERATE AC: AAC asked -> AAC; TC asked -> TC and the EC debit when EC-eligible and the
  CDOL1 amount is the GPO amount, else ARQC (the card sends it online); ARQC asked -> ARQC.
- Second GENERATE AC (only after an ARQC): TC when the ARPC in `91` verifies and its ARC is
  "00" and a TC is asked, else AAC. EXTERNAL AUTHENTICATE may verify the ARPC before it.
- PUT DATA (issuer script, `04 DA`) of `9F79`, `9F77`, `9F78` or `9F6D` needs a verified ARPC
  with ARC "00" in this session and the script MAC (`model.bankcard.script_mac`) over the ATC
  and ARQC of this session; a new balance above `9F77` answers 6A84. A new `9F79` must be the
  balance plus the amount the ARQC covered (`9F02` of CDOL1: a load) or zero when that amount
  is the whole balance (an unload), else 6A80: the script can move exactly the authorised
  amount, whatever balance a terminal told the issuer, and a replayed load script is refused.
- The last offline TC is kept with its debit (ATC | amount | TC | `9F10`, persistent) and
  answered to GET DATA of the proprietary tag `DF4D`, as the e-purse's GET TRANSACTION PROOF:
  a terminal whose TC answer was torn away rebuilds the record with the card's own TC.
- The reset threshold `9F6D` is data the card keeps and reports: the terminal and issuer use it
  to offer a load; the card does not act on it.
- Contactless (a `BankCardOS(contactless=True)`, powered by a reader's antenna): the FCI names
  `PDOL_CONTACTLESS`; a GPO whose `9F66` asks for qPBOC is the whole card decision
  (`model.bankcard.qpboc`): TC with the EC debit and its proof when within the EC balance and
  the single limit, else ARQC, over the PDOL data as sent; no GENERATE AC follows. With `oda`
  (`devices.bankcard_oda`) the answer carries the fDDA signature `9F4B`, the AFL names the
  certificate records (SFI 2, 1-3) and INTERNAL AUTHENTICATE signs the terminal's number (DDA).
- CVR (in `9F10`): 03 | (2nd AC type << 6 | 1st AC type << 4) | flags | 00, types 00 AAC,
  01 TC, 10 ARQC / not yet asked; flags 04 offline PIN verified, 40 issuer authentication
  failed, 08 approved offline on EC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.bankcard_oda import OdaKeys, dda_signature, fdda_signature, record_one
from devices.bankcard_state import (
    AID_CREDIT,
    AID_DEBIT,
    AID_QUASI_CREDIT,
    CURRENCY_CNY,
    PIN_TRIES_MAX,
    BankCardState,
)
from devices.card_os import PowerLost, TearHook, TearPhase
from model.bankcard import (
    application_cryptogram,
    arpc_method_1,
    decode_amount_fen,
    encode_amount_fen,
    issuer_application_data,
    parse_dol,
    script_mac,
    session_key,
    split_dol_data,
    template,
    tlv,
)
from model.bankcard import objects as t
from model.card import SW, command_fields, status
from model.errors import ApduFormatError, CardTwinError

PSE_NAME = b"1PAY.SYS.DDF01"
PPSE_NAME = b"2PAY.SYS.DDF01"
ATC_LAST = 0xFFFF
ARC_APPROVED = b"00"  # ISO 8583 response code 00 in ASCII, as PBOC issuers send it
AIP = bytes.fromhex("7C00")  # SDA, DDA, cardholder verification, terminal risk management
AFL = bytes.fromhex("08010200")  # SFI 1, records 1-2, none for offline data authentication
AFL_ODA = bytes.fromhex("0801020110010300")  # + SFI 1 record 1 authenticated, SFI 2 certificates
PDOL = bytes.fromhex("9F7A019F02065F2A02")
# The contactless FCI's PDOL: the qPBOC reader sends everything the cryptogram covers at GPO.
PDOL_CONTACTLESS = bytes.fromhex("9F66049F02069F03069F1A0295055F2A029A039C019F3704")
TTQ_QPBOC = 0x20  # 9F66 byte 1 bit 6: the reader runs qPBOC (EMV's qVSDC bit)
CDOL1 = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F3704")
CDOL2 = bytes.fromhex("910A8A0295059F3704")
_PDOL, _CDOL1, _CDOL2 = parse_dol(PDOL), parse_dol(CDOL1), parse_dol(CDOL2)
_PDOL_CONTACTLESS = parse_dol(PDOL_CONTACTLESS)
_LABELS = {AID_DEBIT: b"PBOC DEBIT", AID_CREDIT: b"PBOC CREDIT", AID_QUASI_CREDIT: b"PBOC QCREDIT"}
_AC_AAC, _AC_TC, _AC_ARQC = 0x00, 0x40, 0x80
_CVR_CODE = {_AC_AAC: 0b00, _AC_TC: 0b01, _AC_ARQC: 0b10}
_FLAG_PIN, _FLAG_EC, _FLAG_ISSUER_AUTH_FAILED = 0x04, 0x08, 0x40
# Status words beyond the e-purse's `SW` (ISO 7816-4 / EMV Book 3).
SW_AUTH_FAILED = 0x6300
SW_SELECTED_BLOCKED = 0x6283  # selected, but the application is blocked
SW_SM_INVALID = 0x6988
SW_DATA_NOT_FOUND = 0x6A88
SW_WRONG_PIN = 0x63C0
_OK = status(SW.OK)
_PUT_DATA_TAGS = {t.TAG_EC_BALANCE, t.TAG_EC_BALANCE_LIMIT, t.TAG_EC_SINGLE_LIMIT, t.TAG_EC_RESET_THRESHOLD}


class _Refused(CardTwinError):
    """A command the card answers with a status word and no change (internal to the card OS)."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


@dataclass(slots=True)
class _Session:
    """What the card knows about the current transaction, since the last SELECT."""

    selected: bytes = b""  # PSE, PPSE or the AID
    gpo: dict[int, bytes] | None = None  # the PDOL values of the transaction
    ec_eligible: bool = False
    first_ac: int | None = None
    amount_fen: int = 0  # 9F02 of the first GENERATE AC: what the cryptogram authorised
    cdol1_data: bytes = b""
    arqc: bytes = b""
    second_done: bool = False
    pin_verified: bool = False
    issuer_authenticated: bool = False  # the ARPC verified
    issuer_approved: bool = False  # ... and its ARC said 00
    issuer_auth_failed: bool = False


class BankCardOS:
    """One bank card's chip: persistent state plus the volatile session of the current power-up."""

    __slots__ = ("_session", "contactless", "oda", "state", "tear_hook")

    def __init__(
        self,
        state: BankCardState,
        tear_hook: TearHook | None = None,
        contactless: bool = False,
        oda: OdaKeys | None = None,
    ) -> None:
        """`contactless`: the chip is powered through its antenna (a qPBOC reader's field), so its
        FCI names the contactless PDOL; `oda`: its offline data authentication data (none: the
        card offers no SDA or DDA, and its AFL names no certificate records)."""
        state.check()
        self.state = state
        self.tear_hook = tear_hook
        self.contactless = contactless
        self.oda = oda
        self._session = _Session()

    def power_on(self) -> None:
        """A new power-up: the session is gone."""
        self._session = _Session()

    def process(self, raw: bytes) -> bytes:
        """Execute one command APDU and return the response APDU."""
        if self.tear_hook is not None and self.tear_hook(raw, TearPhase.BEFORE_COMMIT):
            self.power_on()
            raise PowerLost
        try:
            response = self._dispatch(*command_fields(raw))
        except ApduFormatError:
            response = status(SW.WRONG_LENGTH)
        except _Refused as refused:
            response = status(refused.sw)
        if self.tear_hook is not None and self.tear_hook(raw, TearPhase.AFTER_COMMIT):
            self.power_on()
            raise PowerLost
        return response

    def _dispatch(self, cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        handler = _HANDLERS.get((cla, ins))
        if handler is None:
            known_ins = any(ins == i for _, i in _HANDLERS)
            return status(SW.CLA_NOT_SUPPORTED if known_ins else SW.INS_NOT_SUPPORTED)
        if ins != 0xA4 and self.state.blocked:
            return status(SW.APP_BLOCKED)
        return handler(self, p1, p2, data)

    # -- selection and reading --------------------------------------------------------------

    def _select(self, p1: int, p2: int, data: bytes) -> bytes:
        if p1 != 0x04 or p2 != 0x00:
            raise _Refused(SW.WRONG_P1P2)
        if not data:
            raise _Refused(SW.WRONG_LENGTH)
        self._session = _Session()  # any SELECT ends the transaction in progress
        state = self.state
        label = _LABELS[state.aid]
        if data == PSE_NAME:
            proprietary = template(t.TAG_FCI_PROPRIETARY, tlv(t.TAG_SFI_OF_DIRECTORY, b"\x01"))
        elif data == PPSE_NAME:
            proprietary = template(
                t.TAG_FCI_PROPRIETARY, template(t.TAG_FCI_ISSUER_DISCRETIONARY, self._directory_entry())
            )
        elif data == state.aid:
            proprietary = template(
                t.TAG_FCI_PROPRIETARY,
                tlv(t.TAG_APPLICATION_LABEL, label),
                tlv(t.TAG_PRIORITY, b"\x01"),
                tlv(t.TAG_PDOL, PDOL_CONTACTLESS if self.contactless else PDOL),
            )
        else:
            raise _Refused(SW.FILE_NOT_FOUND)
        self._session.selected = data
        if state.blocked and data == state.aid:
            return template(t.TAG_FCI, tlv(t.TAG_DF_NAME, data), proprietary) + status(SW_SELECTED_BLOCKED)
        return template(t.TAG_FCI, tlv(t.TAG_DF_NAME, data), proprietary) + _OK

    def _directory_entry(self) -> bytes:
        """The application's entry in the PSE directory and the PPSE FCI: AID, label, priority."""
        return template(
            t.TAG_APPLICATION_TEMPLATE,
            tlv(t.TAG_AID, self.state.aid),
            tlv(t.TAG_APPLICATION_LABEL, _LABELS[self.state.aid]),
            tlv(t.TAG_PRIORITY, b"\x01"),
        )

    def _read_record(self, p1: int, p2: int, data: bytes) -> bytes:
        if p2 & 0x07 != 0x04:
            raise _Refused(SW.WRONG_P1P2)
        if data:
            raise _Refused(SW.WRONG_LENGTH)
        sfi, selected = p2 >> 3, self._session.selected
        if selected == PSE_NAME and (sfi, p1) == (1, 1):
            return template(t.TAG_RECORD_TEMPLATE, self._directory_entry()) + _OK
        if selected == PSE_NAME:
            raise _Refused(SW.RECORD_NOT_FOUND)  # the directory has one record
        if selected != self.state.aid:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        record = self._record(sfi, p1)
        if record is None:
            raise _Refused(SW.RECORD_NOT_FOUND)
        return template(t.TAG_RECORD_TEMPLATE, record) + _OK

    def _record(self, sfi: int, number: int) -> bytes | None:
        if (sfi, number) == (1, 1):
            return record_one(self.state)
        if sfi == 2 and self.oda is not None and number in (1, 2, 3):
            return self.oda.records()[number - 1]
        if (sfi, number) == (1, 2):
            return (
                tlv(t.TAG_CDOL1, CDOL1)
                + tlv(t.TAG_CDOL2, CDOL2)
                + tlv(t.TAG_CVM_LIST, bytes(8) + b"\x01\x00")
            )
        return None

    def _get_data(self, p1: int, p2: int, data: bytes) -> bytes:
        if data:
            raise _Refused(SW.WRONG_LENGTH)
        if self._session.selected != self.state.aid:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        state, tag = self.state, (p1 << 8) | p2
        values = {
            t.TAG_EC_BALANCE: encode_amount_fen(state.ec_balance_fen),
            t.TAG_EC_BALANCE_LIMIT: encode_amount_fen(state.ec_balance_limit_fen),
            t.TAG_EC_SINGLE_LIMIT: encode_amount_fen(state.ec_single_limit_fen),
            t.TAG_EC_RESET_THRESHOLD: encode_amount_fen(state.ec_reset_threshold_fen),
            t.TAG_ATC: state.atc.to_bytes(2, "big"),
            t.TAG_PIN_TRY_COUNTER: bytes((state.pin_tries_left,)),
        }
        if state.last_offline_proof:
            values[t.TAG_OFFLINE_PROOF] = state.last_offline_proof
        value = values.get(tag)
        if value is None:
            raise _Refused(SW_DATA_NOT_FOUND)
        return tlv(tag, value) + _OK

    # -- the transaction --------------------------------------------------------------------

    def _get_processing_options(self, p1: int, p2: int, data: bytes) -> bytes:
        session, state = self._session, self.state
        if p1 or p2:
            raise _Refused(SW.WRONG_P1P2)
        if session.selected != state.aid or session.gpo is not None:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        if len(data) < 2 or data[0] != t.TAG_COMMAND_TEMPLATE or data[1] != len(data) - 2:
            raise _Refused(SW.WRONG_DATA)
        values = _split(_PDOL_CONTACTLESS if self.contactless else _PDOL, data[2:], "GPO")
        amount_fen = _amount(values[t.TAG_AMOUNT_AUTHORISED], "GPO 9F02")
        if state.atc >= ATC_LAST:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)  # an exhausted counter: no transaction ever
        within_ec = int.from_bytes(
            values[t.TAG_CURRENCY], "big"
        ) == state.currency == CURRENCY_CNY and 0 < amount_fen <= min(
            state.ec_balance_fen, state.ec_single_limit_fen
        )
        quick = self.contactless and wants_qpboc(values)
        session.ec_eligible = within_ec and (quick or values.get(t.TAG_EC_TERMINAL_SUPPORT) == b"\x01")
        state.atc += 1  # the commit: every transaction, finished or not, uses up a counter value
        session.gpo = values
        if quick:
            return self._quick_payment(data[2:], amount_fen)
        return tlv(t.TAG_RESPONSE_FORMAT_1, AIP + self._afl()) + _OK

    def _afl(self) -> bytes:
        return AFL_ODA if self.oda is not None else AFL

    def _quick_payment(self, pdol_data: bytes, amount_fen: int) -> bytes:
        """qPBOC: the whole card decision at GPO (module docstring); no GENERATE AC follows."""
        session = self._session
        decided = _AC_TC if session.ec_eligible else _AC_ARQC
        session.first_ac, session.cdol1_data, session.amount_fen = decided, pdol_data, amount_fen
        session.second_done = True
        objects, cryptogram, iad = self._cryptogram_objects(pdol_data, decided)
        if decided == _AC_TC:
            self._commit_offline(amount_fen, cryptogram, iad)
        else:
            session.arqc = cryptogram
        head = tlv(t.TAG_AIP, AIP) + tlv(t.TAG_AFL, self._afl())
        if self.oda is not None:  # fDDA: the card signs the reader's number and amount
            head += tlv(t.TAG_SDAD, fdda_signature(self.oda, self.state.atc, pdol_data, cryptogram))
        return template(t.TAG_RESPONSE_FORMAT_2, head + objects) + _OK

    def _verify(self, p1: int, p2: int, data: bytes) -> bytes:
        state = self.state
        if p1 != 0x00 or p2 != 0x80:
            raise _Refused(SW.WRONG_P1P2)
        if len(data) != 8:
            raise _Refused(SW.WRONG_LENGTH)
        if self._session.selected != state.aid:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        if state.pin_tries_left == 0:
            raise _Refused(SW.PIN_BLOCKED)
        if data != state.pin:
            state.pin_tries_left -= 1
            return status(SW_WRONG_PIN | state.pin_tries_left)
        state.pin_tries_left = PIN_TRIES_MAX
        self._session.pin_verified = True
        return _OK

    def _generate_ac(self, p1: int, p2: int, data: bytes) -> bytes:
        session = self._session
        asked = p1 & 0xC0
        if p2 != 0 or p1 & 0x3F or asked == 0xC0:
            raise _Refused(SW.WRONG_P1P2)
        if session.gpo is None or session.second_done:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        if session.first_ac is None:
            return self._first_ac(asked, data)
        if session.first_ac != _AC_ARQC:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        return self._second_ac(asked, data)

    def _first_ac(self, asked: int, data: bytes) -> bytes:
        session = self._session
        assert session.gpo is not None
        values = _split(_CDOL1, data, "GENERATE AC 1")
        amount_fen = _amount(values[t.TAG_AMOUNT_AUTHORISED], "CDOL1 9F02")
        decided = asked
        if asked == _AC_TC:
            same_amount = values[t.TAG_AMOUNT_AUTHORISED] == session.gpo[t.TAG_AMOUNT_AUTHORISED]
            no_other = values[t.TAG_AMOUNT_OTHER] == bytes(6)
            decided = _AC_TC if session.ec_eligible and same_amount and no_other else _AC_ARQC
        session.first_ac, session.cdol1_data, session.amount_fen = decided, data, amount_fen
        answer, cryptogram, iad = self._cryptogram_answer(data, decided)
        if decided == _AC_ARQC:
            session.arqc = cryptogram
        if decided == _AC_TC:
            self._commit_offline(amount_fen, cryptogram, iad)
        return answer

    def _commit_offline(self, amount_fen: int, cryptogram: bytes, iad: bytes) -> None:
        """The commit of an EC offline purchase: the debit and its proof together."""
        state = self.state
        assert amount_fen <= state.ec_balance_fen, "EC eligibility checked the balance at GPO"
        state.ec_balance_fen -= amount_fen
        state.last_offline_proof = (
            state.atc.to_bytes(2, "big") + encode_amount_fen(amount_fen) + cryptogram + iad
        )

    def _second_ac(self, asked: int, data: bytes) -> bytes:
        session = self._session
        values = _split(_CDOL2, data, "GENERATE AC 2")
        issuer_data = values[t.TAG_ISSUER_AUTH_DATA]
        if not session.issuer_authenticated and not session.issuer_auth_failed:
            self._authenticate_issuer(issuer_data[:8], issuer_data[8:])
        approved = session.issuer_approved and values[t.TAG_ARC] == ARC_APPROVED
        decided = _AC_TC if asked == _AC_TC and approved else _AC_AAC
        session.second_done = True
        return self._cryptogram_answer(session.cdol1_data + data, decided, second=decided)[0]

    def _authenticate_issuer(self, arpc: bytes, arc: bytes) -> bool:
        session, state = self._session, self.state
        expected = arpc_method_1(session_key(state.udk_ac, state.atc), session.arqc, arc)
        ok = arpc == expected
        session.issuer_authenticated, session.issuer_auth_failed = ok, not ok
        session.issuer_approved = ok and arc == ARC_APPROVED
        return ok

    def _cryptogram_answer(
        self, dol_data: bytes, decided: int, second: int | None = None
    ) -> tuple[bytes, bytes, bytes]:
        """The format 2 answer of GENERATE AC, its cryptogram and its `9F10`."""
        objects, cryptogram, iad = self._cryptogram_objects(dol_data, decided, second)
        return template(t.TAG_RESPONSE_FORMAT_2, objects) + _OK, cryptogram, iad

    def _cryptogram_objects(
        self, dol_data: bytes, decided: int, second: int | None = None
    ) -> tuple[bytes, bytes, bytes]:
        """CID, ATC, cryptogram and `9F10` as TLV objects, the cryptogram and the `9F10`."""
        session, state = self._session, self.state
        first = session.first_ac if session.first_ac is not None else decided
        types = (_CVR_CODE[second] if second is not None else 0b10) << 6 | _CVR_CODE[first] << 4
        flags = (
            (_FLAG_PIN if session.pin_verified else 0)
            | (_FLAG_EC if decided == _AC_TC and second is None else 0)
            | (_FLAG_ISSUER_AUTH_FAILED if session.issuer_auth_failed else 0)
        )
        cvr = bytes((0x03, types, flags, 0x00))
        atc = state.atc.to_bytes(2, "big")
        sk = session_key(state.udk_ac, state.atc)
        cryptogram = application_cryptogram(sk, dol_data + AIP + atc + cvr)
        iad = issuer_application_data(state.key_index, cvr)
        objects = (
            tlv(t.TAG_CID, bytes((decided,)))
            + tlv(t.TAG_ATC, atc)
            + tlv(t.TAG_CRYPTOGRAM, cryptogram)
            + tlv(t.TAG_ISSUER_APP_DATA, iad)
        )
        return objects, cryptogram, iad

    def _internal_authenticate(self, p1: int, p2: int, data: bytes) -> bytes:
        """DDA: the card signs the terminal's DDOL data (`devices.bankcard_oda`)."""
        if p1 or p2:
            raise _Refused(SW.WRONG_P1P2)
        if self.oda is None:
            raise _Refused(SW.INS_NOT_SUPPORTED)
        if len(data) != 4:
            raise _Refused(SW.WRONG_LENGTH)
        if self._session.selected != self.state.aid:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        signature = dda_signature(self.oda, self.state.udk_ac, self.state.atc, data)
        return tlv(t.TAG_RESPONSE_FORMAT_1, signature) + _OK

    def _external_authenticate(self, p1: int, p2: int, data: bytes) -> bytes:
        session = self._session
        if p1 or p2:
            raise _Refused(SW.WRONG_P1P2)
        if len(data) != 10:
            raise _Refused(SW.WRONG_LENGTH)
        if (
            session.first_ac != _AC_ARQC
            or session.second_done
            or session.issuer_authenticated
            or session.issuer_auth_failed
        ):
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        if not self._authenticate_issuer(data[:8], data[8:]):
            return status(SW_AUTH_FAILED)
        return _OK

    def _put_data(self, p1: int, p2: int, data: bytes) -> bytes:
        session, state = self._session, self.state
        tag = (p1 << 8) | p2
        if tag not in _PUT_DATA_TAGS:
            raise _Refused(SW_DATA_NOT_FOUND)
        if len(data) != 10:
            raise _Refused(SW.WRONG_LENGTH)
        if not session.issuer_approved:
            raise _Refused(SW.CONDITIONS_NOT_SATISFIED)
        value, mac = data[:6], data[6:]
        header = bytes((0x04, 0xDA, p1, p2, len(data)))
        if mac != script_mac(session_key(state.udk_smi, state.atc), header, state.atc, session.arqc, value):
            raise _Refused(SW_SM_INVALID)
        amount_fen = _amount(value, f"PUT DATA {tag:X}")
        limit_fen = state.ec_balance_limit_fen
        if tag == t.TAG_EC_BALANCE and amount_fen > limit_fen:
            raise _Refused(SW.NO_ROOM)
        balance, authorised = state.ec_balance_fen, session.amount_fen
        is_load = amount_fen == balance + authorised
        is_unload = amount_fen == 0 and authorised == balance
        if tag == t.TAG_EC_BALANCE and not (is_load or is_unload):
            raise _Refused(SW.WRONG_DATA)  # not exactly the authorised load or unload
        if tag == t.TAG_EC_BALANCE_LIMIT and amount_fen < state.ec_balance_fen:
            raise _Refused(SW.WRONG_DATA)
        setattr(state, _PUT_DATA_FIELDS[tag], amount_fen)  # the commit of one script command
        return _OK


def wants_qpboc(values: dict[int, bytes]) -> bool:
    """A reader whose terminal transaction qualifiers `9F66` ask for qPBOC."""
    ttq = values.get(t.TAG_TTQ, b"")
    return bool(ttq) and bool(ttq[0] & TTQ_QPBOC)


def _split(entries: tuple[tuple[int, int], ...], data: bytes, where: str) -> dict[int, bytes]:
    """The DOL values of a command: a wrong length answers 6700."""
    try:
        return split_dol_data(entries, data, where)
    except CardTwinError:
        raise _Refused(SW.WRONG_LENGTH) from None


def _amount(raw: bytes, where: str) -> int:
    """An n12 amount of a command: bytes that are not BCD answer 6A80."""
    try:
        return decode_amount_fen(raw, where)
    except CardTwinError:
        raise _Refused(SW.WRONG_DATA) from None


_PUT_DATA_FIELDS = {
    t.TAG_EC_BALANCE: "ec_balance_fen",
    t.TAG_EC_BALANCE_LIMIT: "ec_balance_limit_fen",
    t.TAG_EC_SINGLE_LIMIT: "ec_single_limit_fen",
    t.TAG_EC_RESET_THRESHOLD: "ec_reset_threshold_fen",
}

_Handler = Callable[[BankCardOS, int, int, bytes], bytes]
_HANDLERS: dict[tuple[int, int], _Handler] = {
    (0x00, 0xA4): BankCardOS._select,
    (0x00, 0xB2): BankCardOS._read_record,
    (0x80, 0xCA): BankCardOS._get_data,
    (0x80, 0xA8): BankCardOS._get_processing_options,
    (0x00, 0x20): BankCardOS._verify,
    (0x80, 0xAE): BankCardOS._generate_ac,
    (0x00, 0x82): BankCardOS._external_authenticate,
    (0x00, 0x88): BankCardOS._internal_authenticate,
    (0x04, 0xDA): BankCardOS._put_data,
}
