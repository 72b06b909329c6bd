"""The financial-card HIL cases that move money: issuer authentication, online and EC offline
purchases, EC load and unload by issuer script, qPBOC with fDDA, a lost script answer, and the
day's clearing. The transactions run through the real terminals (`BankPos`, `EcLoadTerminal`,
`QpbocReader`), acquirer, switch and issuer; the cases that must send what no terminal sends
(EXTERNAL AUTHENTICATE, a forged ARPC, an inflated script) drive `model.bankcard.kernel`.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import model.bankcard.kernel as k
import model.bankcard.objects as t
from hardware_bridge.bank_cases_read import pin_block
from hardware_bridge.bank_target import BankRun
from hardware_bridge.hil import HilCheckError, check
from model.bankcard import (
    AuthorisationRequest,
    BankPos,
    BankRecord,
    EcLoadTerminal,
    Kind,
    QpbocReader,
    card_key,
    encode_amount_fen,
    script_mac,
    session_key,
)
from model.card import encode_command, parse_response
from model.errors import TransactionTornError

SW_OK, SW_AUTH_FAILED, SW_SM_INVALID, SW_WRONG_DATA = 0x9000, 0x6300, 0x6988, 0x6A80
CVR_ISSUER_AUTH_FAILED = 0x40


def _pin(run: BankRun) -> bytes:
    return pin_block(run.target.pin)


def _keep(run: BankRun, what: str, record: BankRecord) -> None:
    run.saw_atc(record.atc)
    if record.kind in ("online", "ec-offline"):
        run.clear_later(what, record.kind, record.atc, record.amount_fen, record.cryptogram, record.dol_data,
                        record.aip, record.iad)  # fmt: skip


def _arqc(run: BankRun, amount_fen: int) -> tuple[k.CardSession, k.AcAnswer, AuthorisationRequest]:
    data = k.terminal_data(amount_fen, run.now(), k.TX_PURCHASE, run.unpredictable(), False)
    session = k.open_card(run.card, data)
    ac = k.first_ac(run.card, session, k.AC_ARQC)
    check(ac.cid == k.AC_ARQC, f"GENERATE AC asking an ARQC answered CID {ac.cid:02X}")
    run.saw_atc(ac.atc)
    request = AuthorisationRequest(
        Kind.PURCHASE, session.pan, session.pan_sequence, ac.atc, ac.cryptogram, ac.dol_data, session.aip,
        ac.iad, amount_fen,
    )  # fmt: skip
    return session, ac, request


def _external_authenticate(run: BankRun, arpc: bytes, arc: bytes) -> int:
    return parse_response(run.card.transmit(encode_command(0x00, 0x82, 0x00, 0x00, arpc + arc))).sw


def case_external_authenticate(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.online_fen
    account = run.account_fen()
    session, ac1, request = _arqc(run, amount)
    response = acquirer.authorise(request)
    check(response.approved, f"the issuer declined the ARQC: ARC {response.arc.decode()}")
    try:  # no TC in hand: the terminal reverses the authorisation, whatever went wrong
        sw = _external_authenticate(run, response.arpc, response.arc)
        check(sw == SW_OK, f"EXTERNAL AUTHENTICATE with the issuer's ARPC answered {sw:04X}, expected 9000")
        ac2 = k.second_ac(run.card, session, k.AC_TC, response.arpc, response.arc)
        check(ac2.cid == k.AC_TC, f"second GENERATE AC after a verified ARPC answered CID {ac2.cid:02X}")
    except BaseException:
        acquirer.reverse(session.pan, ac1.atc)
        raise
    acquirer.confirm(session.pan, ac1.atc)
    check(ac2.atc == ac1.atc, f"the second GENERATE AC moved the ATC {ac1.atc} -> {ac2.atc}")
    run.clear_later(
        "ARPC purchase", "online", ac2.atc, amount, ac2.cryptogram, ac2.dol_data, session.aip, ac2.iad
    )
    check(
        run.account_fen() == account - amount, f"account {account} -> {run.account_fen()}, charged {amount}"
    )
    run.no_holds("ARPC purchase")
    return f"ARPC {response.arpc.hex().upper()} accepted (9000); TC {ac2.cryptogram.hex().upper()}"


def case_forged_arpc(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.online_fen
    account = run.account_fen()
    session, ac1, request = _arqc(run, amount)
    response = acquirer.authorise(request)
    check(response.approved, f"the issuer declined the ARQC: ARC {response.arc.decode()}")
    forged = bytes((response.arpc[0] ^ 0x01,)) + response.arpc[1:]
    try:
        sw = _external_authenticate(run, forged, response.arc)
        ac2 = k.second_ac(run.card, session, k.AC_TC, forged, response.arc)
    finally:
        acquirer.reverse(session.pan, ac1.atc)  # no TC: the terminal reverses the authorisation
    check(sw == SW_AUTH_FAILED, f"EXTERNAL AUTHENTICATE with a forged ARPC answered {sw:04X}, expected 6300")
    check(ac2.cid == k.AC_AAC, f"a TC asked after a forged ARPC answered CID {ac2.cid:02X}, expected AAC")
    check(
        ac2.iad[5] & CVR_ISSUER_AUTH_FAILED != 0,
        f"9F10 {ac2.iad.hex()}: CVR lacks 'issuer authentication failed'",
    )
    check(
        run.account_fen() == account,
        f"a reversed purchase moved the account {account} -> {run.account_fen()}",
    )
    run.no_holds("forged ARPC")
    return "forged ARPC refused with 6300; TC asked -> AAC with CVR 'issuer authentication failed'; reversed"


def case_online_purchase(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.online_fen
    account, ec = run.account_fen(), run.ec_balance()
    record = BankPos("HIL-POS", acquirer, seed=run.steps).purchase_online(
        run.card, amount, run.now(), _pin(run)
    )
    check(record.kind == "online", f"an online purchase gave a {record.kind} record")
    check(
        run.account_fen() == account - amount, f"account {account} -> {run.account_fen()}, charged {amount}"
    )
    check(run.ec_balance() == ec, "an online purchase moved the EC balance")
    run.no_holds("online purchase")
    _keep(run, "online purchase", record)
    return f"{amount} fen online, PIN verified, TC at ATC {record.atc}"


def case_ec_load(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.load_fen
    account, ec, float_fen = run.account_fen(), run.ec_balance(), run.issuer.ec_float_fen
    record = EcLoadTerminal("HIL-EC", acquirer, seed=run.steps).load(run.card, amount, run.now(), _pin(run))
    run.saw_atc(record.atc)
    check(run.ec_balance() == ec + amount, f"EC balance {ec} -> {run.ec_balance()} after a {amount} fen load")
    check(run.account_fen() == account - amount, f"account {account} -> {run.account_fen()}, loaded {amount}")
    check(run.issuer.ec_float_fen == float_fen + amount, "the issuer's EC float did not take the load")
    run.no_holds("EC load")
    return f"loaded {amount} fen by PUT DATA 9F79 at ATC {record.atc}: EC {ec} -> {ec + amount}"


def case_inflated_script(run: BankRun) -> str:
    acquirer, amount, keys = run.network(), run.target.load_fen, run.target.keys
    account = run.account_fen()
    data = k.terminal_data(amount, run.now(), k.TX_EC_LOAD, run.unpredictable(), False)
    session = k.open_card(run.card, data)
    before = k.get_amount(run.card, t.TAG_EC_BALANCE)
    limit = k.get_amount(run.card, t.TAG_EC_BALANCE_LIMIT)
    ac1 = k.first_ac(run.card, session, k.AC_ARQC)
    run.saw_atc(ac1.atc)
    request = AuthorisationRequest(
        Kind.EC_LOAD, session.pan, session.pan_sequence, ac1.atc, ac1.cryptogram, ac1.dol_data, session.aip,
        ac1.iad, amount,
    )  # fmt: skip
    response = acquirer.authorise(replace(request, ec_balance_fen=before, ec_balance_limit_fen=limit))
    check(response.approved, f"the issuer declined the EC load: ARC {response.arc.decode()}")
    try:
        ac2 = k.second_ac(run.card, session, k.AC_TC, response.arpc, response.arc)
        check(ac2.cid == k.AC_TC, f"second GENERATE AC of the load answered CID {ac2.cid:02X}")
        header, mac = response.script[:5], response.script[-4:]
        forged_mac = response.script[:-4] + bytes((mac[0] ^ 0x01,)) + mac[1:]
        # The inflated value MACed correctly (the QA holds the issuer keys): only the card's
        # check that a script moves exactly the authorised amount stands in the way.
        inflated = encode_amount_fen(before + amount + 100)
        sk = session_key(card_key(keys.mk_smi, session.pan, session.pan_sequence), ac1.atc)
        inflated_script = header + inflated + script_mac(sk, header, ac1.atc, ac1.cryptogram, inflated)
        sw_mac = parse_response(run.card.transmit(forged_mac)).sw
        sw_inflated = parse_response(run.card.transmit(inflated_script)).sw
        middle = k.get_amount(run.card, t.TAG_EC_BALANCE)
        sw_genuine = parse_response(run.card.transmit(response.script)).sw
    except BaseException:
        acquirer.reverse(session.pan, ac1.atc)
        raise
    if sw_genuine != SW_OK:
        acquirer.reverse(session.pan, ac1.atc)
        raise HilCheckError(f"the issuer's own script answered {sw_genuine:04X}")
    acquirer.confirm(session.pan, ac1.atc)
    after = run.ec_balance()
    check(sw_mac == SW_SM_INVALID, f"PUT DATA with a forged MAC answered {sw_mac:04X}, expected 6988")
    check(
        sw_inflated == SW_WRONG_DATA,
        f"PUT DATA of an inflated balance answered {sw_inflated:04X}, expected 6A80",
    )
    check(middle == before, f"a refused script moved the EC balance {before} -> {middle}")
    check(after == before + amount, f"EC balance {before} -> {after}, the issuer authorised {amount}")
    check(run.account_fen() == account - amount, "the account was charged other than the load")
    run.no_holds("inflated script")
    return f"forged MAC 6988, inflated +100 fen 6A80, genuine 9000: EC {before} -> {after}"


def case_ec_offline(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.purchase_fen
    account, ec = run.account_fen(), run.ec_balance()
    pos = BankPos("HIL-POS", acquirer, seed=run.steps, ca_keys=run.target.ca_keys)
    record = pos.purchase_ec(run.card, amount, run.now())
    check(pos.oda_failures == 0, "offline data authentication failed: the purchase went online")
    check(record.kind == "ec-offline", f"an EC purchase gave a {record.kind} record")
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    check(
        run.tc_verifies(record.atc, record.cryptogram, data),
        "the offline TC does not verify with the issuer keys",
    )
    check(run.ec_balance() == ec - amount, f"EC balance {ec} -> {run.ec_balance()} after {amount} fen")
    check(run.account_fen() == account, "an EC offline purchase moved the bank account")
    _keep(run, "EC offline purchase", record)
    oda = "ODA passed, " if run.target.ca_keys else ""
    return f"{oda}TC offline at ATC {record.atc}: EC {ec} -> {ec - amount}"


def case_qpboc(run: BankRun) -> str | None:
    tap = run.target.contactless
    if tap is None:
        return None
    acquirer, amount = run.network(), run.target.purchase_fen
    ec = run.ec_balance()
    reader = QpbocReader("HIL-TAP", acquirer, seed=run.steps, ca_keys=run.target.ca_keys)
    record = reader.purchase(tap, amount, run.now())
    check(record.kind == "ec-offline", f"a qPBOC tap within the EC balance gave a {record.kind} record")
    check(run.target.ca_keys is None or reader.fdda_not_done == 0, "fDDA was not done")
    data = record.dol_data + record.aip + record.atc.to_bytes(2, "big") + record.iad[3:7]
    check(
        run.tc_verifies(record.atc, record.cryptogram, data),
        "the qPBOC TC does not verify with the issuer keys",
    )
    check(run.ec_balance() == ec - amount, f"EC balance {ec} -> {run.ec_balance()} after a {amount} fen tap")
    _keep(run, "qPBOC tap", record)
    fdda = "fDDA 9F4B verified, " if run.target.ca_keys else ""
    return f"{fdda}TC at GPO, ATC {record.atc}: EC {ec} -> {ec - amount}"


def case_lost_script_answer(run: BankRun) -> str:
    acquirer, amount = run.network(), run.target.load_fen
    account, ec = run.account_fen(), run.ec_balance()
    kiosk = EcLoadTerminal("HIL-EC", acquirer, seed=run.steps)
    run.loss.arm(lambda apdu: apdu[:2] == b"\x04\xda")
    try:
        kiosk.load(run.card, amount, run.now(), _pin(run))
    except TransactionTornError:
        pass
    except BaseException:
        run.loss.arm(lambda _: False)  # the load failed before its script: nothing is to be lost
        raise
    else:
        raise HilCheckError("the PUT DATA answer was to be lost, yet the load completed")
    check(
        len(kiosk.pending) == 1 and len(run.issuer.holds) == 1, "the torn load is not pending with its hold"
    )
    run.loss.restore()
    recovered = kiosk.recover(run.card)
    check(
        recovered is True, f"recovery answered {recovered}: the card applied the script, expected a confirm"
    )
    after = run.ec_balance()
    run.saw_atc(k.get_atc(run.card))
    check(after == ec + amount, f"EC balance {ec} -> {after}: credited other than once")
    check(
        run.account_fen() == account - amount,
        f"account {account} -> {run.account_fen()}: debited other than once",
    )
    run.no_holds("lost script answer")
    return f"PUT DATA answer lost; recovered from 9F79 and 9F36: EC {ec} -> {after}, account debited once"


def case_ec_unload(run: BankRun) -> str:
    acquirer = run.network()
    account, ec, float_fen = run.account_fen(), run.ec_balance(), run.issuer.ec_float_fen
    record = EcLoadTerminal("HIL-EC", acquirer, seed=run.steps).unload(run.card, run.now(), _pin(run))
    run.saw_atc(record.atc)
    check(record.amount_fen == ec, f"unloaded {record.amount_fen} fen of an EC balance of {ec}")
    check(run.ec_balance() == 0, f"EC balance {run.ec_balance()} fen after an unload")
    check(run.account_fen() == account + ec, f"account {account} -> {run.account_fen()}, unloaded {ec}")
    check(run.issuer.ec_float_fen == float_fen - ec, "the issuer's EC float did not give the unload back")
    run.no_holds("EC unload")
    return f"unloaded {ec} fen by PUT DATA 9F79 := 0 at ATC {record.atc}"


def case_atc_monotonic(run: BankRun) -> str:
    seen = run.atcs
    check(all(a < b for a, b in itertools.pairwise(seen)), f"ATCs seen out of order: {seen}")
    first = run.atc()
    data = k.terminal_data(run.target.purchase_fen, run.now(), k.TX_PURCHASE, run.unpredictable(), False)
    k.open_card(run.card, data)
    second = k.get_atc(run.card)
    check(second == first + 1, f"a GPO moved the ATC {first} -> {second}, expected +1")
    check(
        not seen or first >= seen[-1],
        f"the card's ATC {first} is below the last seen {seen[-1] if seen else 0}",
    )
    return f"{len(seen)} transactions, ATC {seen[0] if seen else first} .. {second}, strictly increasing"


def case_clearing(run: BankRun) -> str:
    run.network()
    for item in run.to_clear:
        check(
            run.tc_verifies(item.atc, item.tc, item.data),
            f"{item.what}: TC at ATC {item.atc} does not verify",
        )
        run.issuer.clear(run.pan, item.atc, item.kind, item.amount_fen)
    run.no_holds("clearing")
    ec = run.ec_balance()
    check(
        run.issuer.ec_float_fen == ec, f"issuer EC float {run.issuer.ec_float_fen} fen, the card holds {ec}"
    )
    total = run.issuer.total_fen()
    check(
        total == run.total_fen_start,
        f"the issuer answers for {total} fen, {run.total_fen_start} at the start",
    )
    cleared = sum(item.amount_fen for item in run.to_clear)
    done = f"{len(run.to_clear)} TCs verified and cleared ({cleared} fen)"
    return f"{done}; EC float = card EC {ec} fen; no fen lost"
