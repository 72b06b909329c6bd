"""The fault-injection campaign in the style of TigerBeetle's simulator: the driver that runs
one seed (`campaign`), its period of faulty days and clearing nights (`period`), the faulty day
and the network between terminals and the clearing house (`faulty_day`, which also keeps the
seed's ground truth), the checks of the books after every night as pure functions of their
figures (`checks`), the fault injectors (`injectors`), the night's ingest in a child process
that can be SIGKILLed (`ingest`) and the vocabulary and report (`report`).
"""

from sim.verify.campaign import DAYS_MAX, SAMPLE_DEFAULT, SEEDS_MAX, run_seed
from sim.verify.report import FAULTS, Report, VerifyError, parse_faults, replay_command

__all__ = [
    "DAYS_MAX",
    "FAULTS",
    "SAMPLE_DEFAULT",
    "SEEDS_MAX",
    "Report",
    "VerifyError",
    "parse_faults",
    "replay_command",
    "run_seed",
]
