"""Where a citizen's card comes from: in process, served on vpcd, or in a PC/SC reader (`sources`),
and the real cards tapped through pcscd inside a simulated day (`reader_taps`).
"""

from sim.cards.reader_taps import CardReader, ReaderReport
from sim.cards.sources import (
    CardSourceError,
    issuer_keys,
    open_source,
    parse_source,
    sim_card,
    sim_psam,
    vpcd_reader,
)

__all__ = [
    "CardReader",
    "CardSourceError",
    "ReaderReport",
    "issuer_keys",
    "open_source",
    "parse_source",
    "sim_card",
    "sim_psam",
    "vpcd_reader",
]
