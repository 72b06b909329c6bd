"""The qPBOC contactless reader: the quick path where the card decides at GET PROCESSING OPTIONS.

PBOC 2.0's contactless part (JR/T 0025.12) follows EMV's qVSDC: the reader selects the PPSE
`2PAY.SYS.DDF01`, then the AID its directory names, and sends at GPO everything the card's
cryptogram covers (the contactless PDOL, with the terminal transaction qualifiers `9F66`
asking for qPBOC). The card answers format 2 with AIP, AFL, CID, ATC, the cryptogram and
`9F10`, and with fDDA the signed dynamic data `9F4B`: a TC when the amount fits its EC balance
and single limit (the EC debit is made then), else an ARQC, which the reader takes online
(DECIDE: the issuer's answer is final, no second GENERATE AC and no script, as qVSDC).
The cryptogram covers the PDOL data as sent || AIP || ATC || CVR, so the issuer checks it as
any other (`BankRecord.dol_data` is that PDOL data).

Torn transactions, DECIDE: the reader reads the PAN (SFI 1 record 1) and the ATC before GPO,
so a lost GPO answer leaves a pending purchase keyed by PAN; `recover` resolves it as the
contact EC purchase does, by the card's ATC and its offline proof `DF4D`. A tear after the GPO
answer arrived loses nothing: the reader holds the cryptogram and finishes without the card
(a TC whose certificates it could not read is kept, fDDA not done: counted in `fdda_not_done`,
the issuer checks the TC at clearing).

fDDA, when the reader holds CA keys and the card's AFL names certificate records: the issuer
and card keys are recovered from the records (`model.bankcard.oda`) and `9F4B` is checked over
the PDOL data and ATC || cryptogram. An offline TC whose fDDA fails is refused (`OdaError`)
with no record: the card's EC debit stays in the issuer's EC float for its day-end refund.
"""

from __future__ import annotations

from datetime import datetime

import model.bankcard.kernel as k
import model.bankcard.objects as t
from model.bankcard.bcd import decode_n, decode_pan, encode_amount_fen
from model.bankcard.issuer import Authoriser, Kind
from model.bankcard.objects import build_dol_data, parse_dol, tlv
from model.bankcard.oda import OdaError, PublicKey, verify_dynamic
from model.bankcard.oda_terminal import card_public_key
from model.bankcard.terminals import BankPos, BankRecord, BankTerminalError, _Pending
from model.card import CardChannel, encode_command, parse_response
from model.card.tlv import find
from model.errors import CardRemovedError, CardStatusError, LoadDeclinedError, TransactionTornError

PPSE_NAME = b"2PAY.SYS.DDF01"
TTQ = bytes.fromhex("20000000")  # qPBOC, online capable (DECIDE: no offline-only readers)


class QpbocReader(BankPos):
    """A contactless reader (bus, taxi, school canteen, shop) of one acquirer."""

    def __init__(
        self, terminal_id: str, authoriser: Authoriser, seed: int, ca_keys: dict[int, PublicKey] | None = None
    ) -> None:
        super().__init__(terminal_id, authoriser, seed, ca_keys)
        self._aid = b""
        self.fdda_not_done = 0  # taps whose card left before its certificates were read
        self._aip_seen: dict[bytes, bytes] = {}  # AID -> the AIP its cards answer (for recovery)

    def purchase(self, card: CardChannel, amount_fen: int, now: datetime) -> BankRecord:
        """One tap: the card's TC (offline, EC debited) or its ARQC authorised online."""
        if amount_fen <= 0:
            raise BankTerminalError(f"reader {self.terminal_id}: amount {amount_fen} fen is not positive")
        data = k.terminal_data(amount_fen, now, k.TX_PURCHASE, self._rng.randbytes(4), True)
        data[t.TAG_TTQ] = TTQ
        try:
            self._aid, pdol = _select_ppse(card)
            raw = k.send(card, encode_command(0x00, 0xB2, 1, 0x0C, le=256), "READ RECORD")
            first = find(raw, t.TAG_RECORD_TEMPLATE) or raw
            pan_raw = find(first, t.TAG_PAN)
            if pan_raw is None:
                raise BankTerminalError(f"reader {self.terminal_id}: record 1 has no PAN")
            pan, psn = decode_pan(pan_raw), decode_n(find(first, t.TAG_PAN_SEQUENCE) or b"\x00", "5F34")
            atc_before = k.get_atc(card)
        except CardRemovedError as lost:  # nothing moved yet
            raise TransactionTornError(f"tap at {self.terminal_id}: {lost}; tap again") from lost
        pdol_data = build_dol_data(parse_dol(pdol), data)
        self._remember(_Pending("ec-offline", pan, psn, atc_before + 1, amount_fen, 0, 0, now, pdol_data))
        try:
            gpo = k.send(
                card,
                encode_command(0x80, 0xA8, 0x00, 0x00, tlv(t.TAG_COMMAND_TEMPLATE, pdol_data), 256),
                "GPO",
            )
        except CardRemovedError as lost:
            raise TransactionTornError(f"tap at {self.terminal_id}: {lost}; present the card again") from lost
        del self.pending[pan]
        return self._finish(card, gpo, pan, psn, pdol_data, amount_fen, now, first)

    def _finish(
        self,
        card: CardChannel,
        gpo: bytes,
        pan: str,
        psn: int,
        pdol_data: bytes,
        amount_fen: int,
        now: datetime,
        first: bytes,
    ) -> BankRecord:
        aip, afl = find(gpo, t.TAG_AIP), find(gpo, t.TAG_AFL)
        cid, atc_raw = find(gpo, t.TAG_CID), find(gpo, t.TAG_ATC)
        cryptogram, iad = find(gpo, t.TAG_CRYPTOGRAM), find(gpo, t.TAG_ISSUER_APP_DATA)
        if aip is None or afl is None or cid is None or atc_raw is None or cryptogram is None or iad is None:
            raise k.KernelError(
                f"reader {self.terminal_id}: the qPBOC GPO answer lacks 82, 94, 9F27, 9F36, 9F26 or 9F10"
            )
        atc, decided = int.from_bytes(atc_raw, "big"), cid[0] & 0xC0
        self._aip_seen[self._aid] = aip
        record = BankRecord(
            "ec-offline", self.terminal_id, pan, psn, atc, amount_fen, cryptogram, pdol_data, aip, iad, now
        )
        if decided == k.AC_TC:
            self._check_fdda(card, gpo, afl, aip, first, pan, pdol_data, atc_raw + cryptogram, now)
            return record
        if decided != k.AC_ARQC:
            raise LoadDeclinedError(f"tap of {amount_fen} fen: the card declined (AAC)")
        ac = k.AcAnswer(decided, atc, cryptogram, iad, pdol_data)
        session = k.CardSession(k.CANDIDATE_AIDS[0], pan, psn, aip, (), (), {})
        response = self.authoriser.authorise(self._request(Kind.PURCHASE, session, ac, amount_fen))
        if not response.approved:
            raise LoadDeclinedError(f"tap of {amount_fen} fen: issuer answered {response.arc.decode()}")
        self.authoriser.confirm(pan, atc)
        return BankRecord(
            "online", self.terminal_id, pan, psn, atc, amount_fen, cryptogram, pdol_data, aip, iad, now
        )

    def _check_fdda(
        self, card: CardChannel, gpo: bytes, afl: bytes, aip: bytes, first: bytes, pan: str, pdol_data: bytes,
        dynamic: bytes, now: datetime,
    ) -> None:  # fmt: skip
        if self.ca_keys is None:
            return
        sdad = find(gpo, t.TAG_SDAD)
        try:
            records = [first, *k.read_afl(card, afl)[1:]]
        except CardRemovedError:  # the TC is in hand and the issuer checks it at clearing
            self.fdda_not_done += 1
            return
        if sdad is None:
            raise OdaError(f"reader {self.terminal_id}: fDDA: the card sent no 9F4B")
        icc = card_public_key(self.ca_keys, records, aip, pan, now, dda=True)
        if verify_dynamic(icc, sdad, pdol_data, "fDDA 9F4B") != dynamic:
            raise OdaError(f"reader {self.terminal_id}: fDDA: the signed data is not this tap's cryptogram")

    def recover(self, card: CardChannel) -> BankRecord | None:
        """A card presented again after a lost GPO answer: its record if it committed."""
        pan, atc, _ = self._card_now(card)
        pending = self.pending.get(pan)
        if pending is None:
            return None
        if atc not in (pending.atc - 1, pending.atc):
            raise BankTerminalError(
                f"reader {self.terminal_id}: card {pan} moved from ATC {pending.atc} to {atc}"
            )
        del self.pending[pan]
        if atc == pending.atc - 1:  # the GPO never reached the card
            return None
        try:
            proof = k.get_data(card, t.TAG_OFFLINE_PROOF)
        except CardStatusError:  # no offline TC ever: the GPO was an ARQC
            return None
        if proof[:8] != atc.to_bytes(2, "big") + encode_amount_fen(pending.amount_fen):
            return None  # the GPO answered an ARQC: nothing moved, the issuer was never asked
        aip = self._aip_seen.get(self._aid)
        if aip is None:  # DECIDE: the AIP a card of this AID answered before: the TC covers it
            raise BankTerminalError(f"reader {self.terminal_id}: no AIP of this application seen yet")
        return BankRecord(
            "ec-offline", self.terminal_id, pan, pending.pan_sequence, atc, pending.amount_fen,
            proof[8:16], pending.dol_data, aip, proof[16:], pending.when, recovered=True,
        )  # fmt: skip


def _select_ppse(card: CardChannel) -> tuple[bytes, bytes]:
    """SELECT the PPSE, then the AID its directory names: (AID, the contactless PDOL)."""
    ppse = k.send(card, encode_command(0x00, 0xA4, 0x04, 0x00, PPSE_NAME, 256), "SELECT PPSE")
    aid = find(ppse, t.TAG_AID)
    if aid not in k.CANDIDATE_AIDS:
        raise k.KernelError("SELECT PPSE: the directory names no PBOC AID")
    answer = parse_response(card.transmit(encode_command(0x00, 0xA4, 0x04, 0x00, aid, 256)))
    if not answer.ok:
        raise CardStatusError("SELECT AID", answer.sw)
    return aid, find(answer.data, t.TAG_PDOL) or b""
