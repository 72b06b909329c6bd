"""The financial IC card (PBOC 2.0 debit/credit with electronic cash): what card, terminal and
issuer share.

- `crypto`: card keys by EMV option A (`card_key`, `IssuerMasterKeys`), the EMV common session
  key (`session_key`), ARQC/TC/AAC (`application_cryptogram` over `cryptogram_input`), ARPC
  method 1 (`arpc_method_1`), the issuer script MAC (`script_mac`), `9F10` issuer application
  data; every DECIDE of the cryptography is in its docstring.
- `objects`: the tags, BER-TLV encoding (`tlv`, `template`; reading is `model.card.tlv`), and
  data object lists (`parse_dol`, `build_dol_data`, `split_dol_data`).
- `bcd`: n12 amounts in fen, PANs and YYMMDD dates in packed BCD.

- `kernel`: the commands of every bank terminal over the `CardChannel` (`open_card`: PSE or
  candidate list, SELECT, GPO with the PDOL, READ RECORD by the AFL; `first_ac`, `second_ac`,
  GET DATA, VERIFY).
- `issuer`: the issuing bank's authorisation host (`IssuerHost`: ARQC verified, ARC + ARPC,
  two-phase holds, the EC load script) behind the `Authoriser` interface.
- `terminals`: the bank POS (`BankPos`: online purchase, EC offline purchase) and the EC load
  terminal (`EcLoadTerminal`), each recovering its torn transactions from the card's EC balance
  and ATC; finished transactions are `BankRecord`s.
- `network`: the `Switch` routing by BIN to the issuers, the `Acquirer` (its clearing file and
  its store-and-forward advices).
- `fees`: the merchant discount by class split 7:2:1 (ASSUMPTION), the biller fee, the
  acquirers' revenue-sharing agreements (`Tariff`).
- `clearing`: `clear_day`, the files through the switch to the issuers, one posting per record
  on `model.backoffice.Ledger`, positions netting to zero.
- `settlement`: `settle`, the T+1 net instructions between every party, closing the positions.
- `qpboc`: the contactless reader (`QpbocReader`): the card decides at GPO, fDDA.
- `oda`, `oda_terminal`: offline data authentication with a test CA (`TestCa`, `IssuerPki`,
  RSA keys, the EMV certificate formats) and the terminal's SDA / DDA checks (`authenticate`).
- `bills`: utility bills at the convenience terminals (`Biller`, `ConvenienceTerminal`): lookup,
  online payment through the acquirer, confirmation, clearing to the biller.

The card itself lives in `devices.bankcard_os`.
"""

from model.bankcard.bcd import (
    AMOUNT_N12_FEN_MAX,
    BcdError,
    check_pan,
    decode_amount_fen,
    decode_date,
    decode_n,
    decode_pan,
    encode_amount_fen,
    encode_date,
    encode_n,
    encode_pan,
)
from model.bankcard.bills import Bill, Biller, BillError, ConvenienceTerminal
from model.bankcard.clearing import DayClearing, clear_day, route
from model.bankcard.crypto import (
    ARC_SIZE,
    ATC_MAX,
    CRYPTOGRAM_SIZE,
    CVR_SIZE,
    SCRIPT_MAC_SIZE,
    BankCryptoError,
    IssuerMasterKeys,
    application_cryptogram,
    arpc_method_1,
    card_key,
    cryptogram_input,
    cvr_of,
    issuer_application_data,
    odd_parity,
    retail_mac,
    script_mac,
    session_key,
)
from model.bankcard.fees import DISCOUNT_BP, Fees, Share, Tariff, TariffError, split_fee
from model.bankcard.issuer import (
    ARC_APPROVED,
    AuthorisationRequest,
    AuthorisationResponse,
    Authoriser,
    IssuerError,
    IssuerHost,
    Kind,
)
from model.bankcard.kernel import AcAnswer, CardSession, KernelError, open_card
from model.bankcard.network import Acquirer, ClearingRecord, NetworkError, Switch
from model.bankcard.objects import (
    build_dol_data,
    dol_length,
    parse_dol,
    split_dol_data,
    tag_bytes,
    template,
    tlv,
)
from model.bankcard.oda import IssuerPki, KeyPair, OdaError, PublicKey, TestCa, icc_key_pool
from model.bankcard.oda_terminal import authenticate, card_public_key
from model.bankcard.qpboc import QpbocReader
from model.bankcard.settlement import Instruction, Settlement, SettlementError, settle, value_day
from model.bankcard.terminals import BankPos, BankRecord, BankTerminalError, EcLoadTerminal

__all__ = [
    "AMOUNT_N12_FEN_MAX",
    "ARC_APPROVED",
    "ARC_SIZE",
    "ATC_MAX",
    "CRYPTOGRAM_SIZE",
    "CVR_SIZE",
    "DISCOUNT_BP",
    "SCRIPT_MAC_SIZE",
    "AcAnswer",
    "Acquirer",
    "AuthorisationRequest",
    "AuthorisationResponse",
    "Authoriser",
    "BankCryptoError",
    "BankPos",
    "BankRecord",
    "BankTerminalError",
    "BcdError",
    "Bill",
    "BillError",
    "Biller",
    "CardSession",
    "ClearingRecord",
    "ConvenienceTerminal",
    "DayClearing",
    "EcLoadTerminal",
    "Fees",
    "Instruction",
    "IssuerError",
    "IssuerHost",
    "IssuerMasterKeys",
    "IssuerPki",
    "KernelError",
    "KeyPair",
    "Kind",
    "NetworkError",
    "OdaError",
    "PublicKey",
    "QpbocReader",
    "Settlement",
    "SettlementError",
    "Share",
    "Switch",
    "Tariff",
    "TariffError",
    "TestCa",
    "application_cryptogram",
    "arpc_method_1",
    "authenticate",
    "build_dol_data",
    "card_key",
    "card_public_key",
    "check_pan",
    "clear_day",
    "cryptogram_input",
    "cvr_of",
    "decode_amount_fen",
    "decode_date",
    "decode_n",
    "decode_pan",
    "dol_length",
    "encode_amount_fen",
    "encode_date",
    "encode_n",
    "encode_pan",
    "icc_key_pool",
    "issuer_application_data",
    "odd_parity",
    "open_card",
    "parse_dol",
    "retail_mac",
    "route",
    "script_mac",
    "session_key",
    "settle",
    "split_dol_data",
    "split_fee",
    "tag_bytes",
    "template",
    "tlv",
    "value_day",
]
