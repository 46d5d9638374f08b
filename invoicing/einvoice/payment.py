"""BG-16 and BT-20 of the business terms (invoicing.einvoice.terms): how the buyer paid or is to pay,
as UNTDID 4461 payment means, and the payment terms in the seller's language (invoicing.einvoice.texts)."""

from dataclasses import dataclass

from invoicing.document import BankDetails, InvoiceDocument
from invoicing.einvoice.texts import PAID_BY_ON, PAID_ON, PAYABLE_BY, SEPA_CREDIT_TRANSFER, einvoice_text


@dataclass(frozen=True)
class PaymentCard:
    """BG-18: only the last digits of the card (BT-87 must never carry the full number)."""

    last_digits: str  # BT-87
    network: str | None = None  # UBL's NetworkID (VISA, MC, ...); not an EN 16931 term
    holder: str | None = None  # BT-88


@dataclass(frozen=True)
class CreditTransfer:
    """BG-17."""

    iban: str  # BT-84
    account_name: str | None  # BT-85
    bic: str | None  # BT-86


@dataclass(frozen=True)
class PaymentInstructions:
    """BG-16."""

    means_code: str  # BT-81, UNTDID 4461
    means_text: str | None  # BT-82
    remittance_information: str  # BT-83
    credit_transfer: CreditTransfer | None  # BG-17
    card: PaymentCard | None  # BG-18


# UNTDID 4461 payment means, by the order's payment method (lower case, without "-", "_" and spaces).
CARD_METHODS = frozenset({"card", "creditcard", "debitcard", "visa", "mastercard", "amex", "americanexpress"})
ONLINE_METHODS = frozenset({"paypal", "klarna", "applepay", "googlepay", "amazonpay", "sofort", "giropay"})
MEANS_CREDIT_TRANSFER_SEPA = "58"
MEANS_CREDIT_CARD = "54"
MEANS_ONLINE_PAYMENT_SERVICE = "68"
MEANS_NOT_DEFINED = "1"


def _normalized_method(method: str | None) -> str:
    return "".join(char for char in (method or "").lower() if char.isalnum())


def payment_instructions(document: InvoiceDocument, card: PaymentCard | None) -> PaymentInstructions:
    """BG-16: what the buyer paid with, or is to pay with. An invoice still due is paid by credit transfer
    to the seller's account (BG-17) when the seller has one."""
    payment = document.payment
    bank: BankDetails | None = document.seller.bank
    method = _normalized_method(payment.method)
    remittance = document.invoice_number
    if not payment.paid and bank is not None:
        transfer = CreditTransfer(bank.iban.replace(" ", ""), bank.account_holder, bank.bic)
        means_text = einvoice_text(document.seller.language, SEPA_CREDIT_TRANSFER)
        return PaymentInstructions(MEANS_CREDIT_TRANSFER_SEPA, means_text, remittance, transfer, None)
    if method in CARD_METHODS:
        return PaymentInstructions(MEANS_CREDIT_CARD, payment.method, remittance, None, card)
    if method in ONLINE_METHODS:
        return PaymentInstructions(MEANS_ONLINE_PAYMENT_SERVICE, payment.method, remittance, None, None)
    return PaymentInstructions(MEANS_NOT_DEFINED, payment.method, remittance, None, None)


def payment_terms(document: InvoiceDocument) -> str:
    """BT-20 in the seller's language. Dates are ISO 8601: the XML has no locale."""
    language = document.seller.language
    payment = document.payment
    if payment.paid:
        paid_on = (payment.paid_on or document.invoice_date).isoformat()
        if payment.method:
            return einvoice_text(language, PAID_BY_ON, method=payment.method, date=paid_on)
        return einvoice_text(language, PAID_ON, date=paid_on)
    due_on = payment.due_on or document.invoice_date
    return einvoice_text(language, PAYABLE_BY, date=due_on.isoformat(), number=document.invoice_number)
