"""The project's exceptions.

Every error a user can cause (a malformed APDU, a card that refuses a command, a removed card,
a bad scenario or batch file) is a `CardTwinError`: the CLI prints its message on one line and
exits non-zero. The message always says what went wrong and where (which command, which field,
which file and line). The card protocol's errors are declared here; each other subsystem
declares its own next to the code that raises it, always under `CardTwinError`:

    CardTwinError
    ├── ApduFormatError                  bytes that are not a command or response APDU
    │   └── GarbageResponseError         hardware_bridge.errors: a reader answered garbage
    ├── CardRemovedError                 no answer: committed or not is unknown
    │   └── NoCardError                  hardware_bridge.errors: the reader has no card
    ├── CardStatusError                  a status word other than 9000
    │   ├── ApplicationNotFoundError     ├── CardBlockedError
    │   ├── InsufficientBalanceError     ├── BalanceLimitError
    │   ├── CounterExhaustedError        ├── MacInvalidError
    │   ├── KeyIndexError                ├── ProofUnavailableError
    │   └── PinError
    ├── CardExpiredError  HotlistedCardError  LoadDeclinedError  CardAuthenticationError
    ├── TransactionTornError             the card may have committed: present it again
    │   └── UnflushedPowerLostError      sim.verify.injectors: a fault, not a user error
    ├── NoOpenTripError
    ├── model: MoneyError  DateFormatError
    │   security: CryptoError  KeyStoreError          card: CardFileError  TlvError
    │   records: BatchFormatError                     terminal: FareError  JournalFullError
    │   terminal: PendingBookFullError
    │   backoffice: ClearingError  LedgerError  SettlementError  FeeError  BankError
    │               AccountError  LifecycleError  RegistryError
    ├── devices: PersonalisationError  CardImageError
    ├── hardware_bridge: PcscError (PcscUnavailableError, NoReaderError, ReaderNotFoundError)
    │   VpcdError  TraceError  HilCheckError  ReportError
    ├── scenarios: ScenarioError
    └── sim: InvariantError  DaskError  SweepError  RealCardError  CardSourceError
             PlacementError  DashboardError  VerifyError  TerminalPowerLostError  BenchError
"""

from __future__ import annotations


class CardTwinError(Exception):
    """Base of every error the project raises on purpose."""


class ApduFormatError(CardTwinError):
    """Bytes that do not form a valid command or response APDU."""


class CardRemovedError(CardTwinError):
    """The card gave no answer: pulled from the field, power lost, or the reader went away.

    Whether the card committed the command in flight is unknown; the terminal recovers with
    GET TRANSACTION PROOF when the card comes back.
    """


class CardStatusError(CardTwinError):
    """The card (or PSAM) answered a command with a status word other than 9000."""

    def __init__(self, command: str, sw: int, detail: str = "") -> None:
        self.command = command
        self.sw = sw
        text = f"{command}: card answered {sw:04X}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class ApplicationNotFoundError(CardStatusError):
    """The card has no e-purse application (SELECT answered 6A82)."""


class CardBlockedError(CardStatusError):
    """The e-purse application is blocked (SELECT answered 6A81)."""


class InsufficientBalanceError(CardStatusError):
    """The purchase amount exceeds balance plus overdraft limit (9401)."""


class BalanceLimitError(CardStatusError):
    """A load would take the balance over the card's maximum balance (6A84)."""


class CounterExhaustedError(CardStatusError):
    """The card's transaction counter reached FFFF (9402); the card must be replaced."""


class MacInvalidError(CardStatusError):
    """A MAC did not verify (9302): a wrong key, a forged message or a tampered field."""


class KeyIndexError(CardStatusError):
    """The card or PSAM does not hold the requested key index (9403)."""


class ProofUnavailableError(CardStatusError):
    """GET TRANSACTION PROOF: the card did not commit the transaction asked for (9406)."""


class PinError(CardStatusError):
    """VERIFY PIN failed; `tries_left` says how many attempts remain (0 = PIN blocked)."""

    def __init__(self, command: str, sw: int, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(command, sw, f"wrong PIN, {tries_left} tries left")


class CardExpiredError(CardTwinError):
    """The card's application is outside its validity dates."""


class HotlistedCardError(CardTwinError):
    """The card is on the terminal's hotlist; the terminal blocked its application."""


class LoadDeclinedError(CardTwinError):
    """The load host refused to authorise a load (bad MAC1, unknown card, over a limit)."""


class CardAuthenticationError(CardTwinError):
    """The card's MAC2 did not verify at the PSAM: the card is not genuine.

    The card has already debited itself; the record is attached so nothing is lost.
    """

    def __init__(self, message: str, record: object) -> None:
        self.record = record
        super().__init__(message)


class TransactionTornError(CardTwinError):
    """The card gave no answer to the committing command (DEBIT or CREDIT).

    The terminal keeps the pending transaction and resolves it with GET TRANSACTION PROOF
    when the same card is presented again.
    """


class NoOpenTripError(CardTwinError):
    """A composite (metro) exit found no entry record on the card."""
