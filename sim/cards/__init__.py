"""Where a citizen's card comes from: in process, served on vpcd, or in a PC/SC reader (`sources`),
the real cards tapped through pcscd inside a simulated day (`reader_taps`), and one
`cardtwin hil` run over any sources (`hil_run`: conformance + HIL suites, or a script), and
card images on disk (`images`).
"""

from sim.cards.hil_run import HilPlan, run_hil
from sim.cards.images import describe_image, read_image, write_image
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
    "HilPlan",
    "ReaderReport",
    "describe_image",
    "issuer_keys",
    "open_source",
    "parse_source",
    "read_image",
    "run_hil",
    "sim_card",
    "sim_psam",
    "vpcd_reader",
    "write_image",
]
