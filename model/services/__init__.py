"""The citizen card beyond the purse (seed 003, Hangzhou): medical-insurance settlement
(`medical`: the cost split between the fund, the personal medical account and the citizen,
MACed claims from institutions, their payment from the fund, on the back office's ledger;
`cashier`: one visit at the counter, the own part paid by e-purse, citizen account or cash), the
citizen account in use (`account`: payer batches, vouchers that expire, online spending over
`model.backoffice.CitizenAccounts`), and the card as an identity (`identity`: the card read
through the `CardChannel` and a status list checked online or from a copy; `loans`: bikes and
library books without deposit; `entitlements`: the park annual card, the monthly pass, the
elderly concession).
"""

from model.services.account import AccountBook, PayerBatch
from model.services.cashier import CashierReceipt, MedicalCashier, OwnPayment
from model.services.entitlements import Entitlements
from model.services.identity import IdentityError, ListCopy, Listed, StatusList, check_status, read_identity
from model.services.loans import LoanDesk, LoanError, refused_reason
from model.services.medical import (
    Claim,
    ClaimError,
    MedicalError,
    MedicalFund,
    VisitSplit,
    institution_key,
    sign_claim,
    split_visit,
)

__all__ = [
    "AccountBook",
    "CashierReceipt",
    "Claim",
    "ClaimError",
    "Entitlements",
    "IdentityError",
    "ListCopy",
    "Listed",
    "LoanDesk",
    "LoanError",
    "MedicalCashier",
    "MedicalError",
    "MedicalFund",
    "OwnPayment",
    "PayerBatch",
    "StatusList",
    "VisitSplit",
    "check_status",
    "institution_key",
    "read_identity",
    "refused_reason",
    "sign_claim",
    "split_visit",
]
