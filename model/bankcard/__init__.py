"""The financial IC card (PBOC 2.0 debit/credit with electronic cash): what card, terminal and
issuer share.

- `crypto`: card keys by EMV option A (`card_key`, `IssuerMasterKeys`), the EMV common session
  key (`session_key`), ARQC/TC/AAC (`application_cryptogram` over `cryptogram_input`), ARPC
  method 1 (`arpc_method_1`), the issuer script MAC (`script_mac`), `9F10` issuer application
  data; every DECIDE of the cryptography is in its docstring.
- `objects`: the tags, BER-TLV encoding (`tlv`, `template`; reading is `model.card.tlv`), and
  data object lists (`parse_dol`, `build_dol_data`, `split_dol_data`).
- `bcd`: n12 amounts in fen, PANs and YYMMDD dates in packed BCD.

The card itself lives in `devices.bankcard_os`; terminal kernels and the issuer host build on
this package.
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
from model.bankcard.objects import (
    build_dol_data,
    dol_length,
    parse_dol,
    split_dol_data,
    tag_bytes,
    template,
    tlv,
)

__all__ = [
    "AMOUNT_N12_FEN_MAX",
    "ARC_SIZE",
    "ATC_MAX",
    "CRYPTOGRAM_SIZE",
    "CVR_SIZE",
    "SCRIPT_MAC_SIZE",
    "BankCryptoError",
    "BcdError",
    "IssuerMasterKeys",
    "application_cryptogram",
    "arpc_method_1",
    "build_dol_data",
    "card_key",
    "check_pan",
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
    "issuer_application_data",
    "odd_parity",
    "parse_dol",
    "retail_mac",
    "script_mac",
    "session_key",
    "split_dol_data",
    "tag_bytes",
    "template",
    "tlv",
]
