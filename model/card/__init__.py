"""The terminal's view of a card. `CardChannel` is the one door to a card:
`transmit(command: bytes) -> bytes`. Its implementations are the in-process simulated card
(`devices.sim_channel.SimChannel`), a card served or inserted in a PC/SC reader
(`hardware_bridge.pcsc_channel.PcscChannel`) and the tracing and latency wrappers of the bridge.
Around it: APDU encoding and status words (`apdu`), BER-TLV (`tlv`), the command set
(`commands`), the layouts of the card's files (`files`), and reading a card through the channel,
each status word turned into a typed error (`access`).
"""

from model.card.access import (
    algorithm_of,
    exchange,
    get_balance,
    get_proof,
    open_epurse,
    read_capp,
    read_card,
    read_log,
    read_public,
    select_epurse,
)
from model.card.apdu import (
    SW,
    command_fields,
    describe_sw,
    encode_command,
    parse_command,
    parse_response,
    status,
)
from model.card.channel import CardChannel
from model.card.files import (
    CAPP_ID_METRO,
    CAPP_RECORD_SIZE,
    CAPP_RECORDS_MAX,
    EPURSE_AID,
    HOLDER_SIZE,
    LOG_RECORD_SIZE,
    LOG_RECORDS_MAX,
    MANAGEMENT_SIZE,
    PUBLIC_SIZE,
    SFI_CAPP,
    SFI_HOLDER,
    SFI_LOG,
    SFI_MANAGEMENT,
    SFI_PUBLIC,
    CappRecord,
    CardType,
    PublicInfo,
    encode_holder,
    encode_management,
    log_record,
)

__all__ = [
    "CAPP_ID_METRO",
    "CAPP_RECORDS_MAX",
    "CAPP_RECORD_SIZE",
    "EPURSE_AID",
    "HOLDER_SIZE",
    "LOG_RECORDS_MAX",
    "LOG_RECORD_SIZE",
    "MANAGEMENT_SIZE",
    "PUBLIC_SIZE",
    "SFI_CAPP",
    "SFI_HOLDER",
    "SFI_LOG",
    "SFI_MANAGEMENT",
    "SFI_PUBLIC",
    "SW",
    "CappRecord",
    "CardChannel",
    "CardType",
    "PublicInfo",
    "algorithm_of",
    "command_fields",
    "describe_sw",
    "encode_command",
    "encode_holder",
    "encode_management",
    "exchange",
    "get_balance",
    "get_proof",
    "log_record",
    "open_epurse",
    "parse_command",
    "parse_response",
    "read_capp",
    "read_card",
    "read_log",
    "read_public",
    "select_epurse",
    "status",
]
