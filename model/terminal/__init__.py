"""The transaction managers that run on a terminal. `CardAcceptor` (`acceptor`) is the shared
opening of every transaction: select the e-purse, check validity, resolve torn transactions;
`PurchaseTerminal` (`purchase`) and `LoadTerminal` (`load`) build on it. The terminal's journal of
records (`journal`), torn-transaction recovery from the card's log and proof (`recovery`) and the
fare rules a terminal charges by (`fares`, `FareRules` declared here once).
"""

from model.terminal.fares import FareRules, bus_fare_fen, metro_exit_fare, taxi_fare_fen
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from model.terminal.recovery import PendingTransaction, RecoveryOutcome

__all__ = [
    "FareRules",
    "LoadTerminal",
    "PendingTransaction",
    "PurchaseTerminal",
    "RecoveryOutcome",
    "bus_fare_fen",
    "metro_exit_fare",
    "taxi_fare_fen",
]
