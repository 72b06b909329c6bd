"""The contract between a terminal and the clearing house: the signed transaction record a card
transaction produces (`record`) and the batch file terminals upload (`batch`: a 56-byte header,
51-byte records, each with its CRC-32).
"""

from model.records.batch import (
    HEADER_SIZE,
    NO_PSAM,
    RECORD_HEAD,
    RECORD_SIZE,
    BatchFault,
    BatchHeader,
    ParsedBatch,
    WireRecord,
    decode_record,
    encode_record,
    parse_batch,
    parse_header,
    read_body,
    write_batch,
    write_batch_body,
)
from model.records.record import TransactionRecord, TxType, verify_tac

__all__ = [
    "HEADER_SIZE",
    "NO_PSAM",
    "RECORD_HEAD",
    "RECORD_SIZE",
    "BatchFault",
    "BatchHeader",
    "ParsedBatch",
    "TransactionRecord",
    "TxType",
    "WireRecord",
    "decode_record",
    "encode_record",
    "parse_batch",
    "parse_header",
    "read_body",
    "verify_tac",
    "write_batch",
    "write_batch_body",
]
