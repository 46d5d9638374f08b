"""The invoice's fixed wording, from the message catalogs in `invoicing/locales/` (see invoicing/language.py).

The msgids are the English wording; `pybabel extract` finds them as `_("...")` calls."""

from functools import cache
from typing import TypedDict

from invoicing.language import gettext


class Labels(TypedDict):
    invoice: str
    invoice_number: str
    invoice_date: str
    delivery_date: str
    order_number: str
    order_date: str
    billing_address: str
    shipping_address: str
    vat_id: str
    tax_number: str
    legal_registration: str
    email: str
    phone: str
    position: str
    description: str
    sku: str
    quantity: str
    unit_price: str
    discount: str
    net: str
    tax_rate: str
    shipping: str
    subtotal: str
    tax_on: str
    total: str
    paid: str
    due: str
    account_holder: str
    iban: str
    bic: str
    bank_name: str
    reference: str
    continued: str
    page: str
    # credit notes
    credit_note: str
    credit_note_number: str
    credit_note_date: str
    corrects: str
    refunded: str
    credited: str
    # a gross order's (pricesIncludeTax) line prices and totals
    unit_price_gross: str
    gross: str
    gross_at: str


@cache
def labels_for(language: str) -> Labels:
    """Labels in an available catalog language (invoicing.language.invoice_language picks it)."""

    def _(message: str) -> str:
        return gettext(language, message)

    return Labels(
        invoice=_("Invoice"),
        invoice_number=_("Invoice number"),
        invoice_date=_("Invoice date"),
        delivery_date=_("Delivery date"),
        order_number=_("Order number"),
        order_date=_("Order date"),
        billing_address=_("Billing address"),
        shipping_address=_("Shipping address"),
        vat_id=_("VAT ID"),
        tax_number=_("Tax number"),
        legal_registration=_("Company register"),
        email=_("Email"),
        phone=_("Phone"),
        position=_("Pos."),
        description=_("Description"),
        sku=_("SKU"),
        quantity=_("Qty"),
        unit_price=_("Unit price"),
        discount=_("Discount"),
        net=_("Net"),
        tax_rate=_("VAT"),
        shipping=_("Shipping"),
        subtotal=_("Subtotal (net)"),
        tax_on=_("VAT {rate} on {base}"),
        total=_("Total ({currency})"),
        paid=_("Paid by {method} on {date}. Thank you!"),
        due=_("Please pay {total} by {date}, quoting the invoice number {number}."),
        account_holder=_("Account holder"),
        iban=_("IBAN"),
        bic=_("BIC"),
        bank_name=_("Bank"),
        reference=_("Reference"),
        continued=_("{invoice} {number} (continued)"),
        page=_("Page {page} of {pages}"),
        credit_note=_("Credit note"),
        credit_note_number=_("Credit note number"),
        credit_note_date=_("Credit note date"),
        corrects=_("Corrects invoice"),
        refunded=_("The amount of {total} is refunded by {method}."),
        credited=_("The amount of {total} is credited against invoice {invoice}."),
        unit_price_gross=_("Gross price"),
        gross=_("Gross"),
        gross_at=_("Gross at {rate}"),
    )


def payment_method_name(method: str, language: str) -> str:
    """A payment method as orders name it, in words; any other method is shown as given, "_" as spaces."""

    def _(message: str) -> str:
        return gettext(language, message)

    names = {
        "paypal": "PayPal",
        "credit_card": _("credit card"),
        "debit_card": _("debit card"),
        "invoice": _("invoice"),
        "bank_transfer": _("bank transfer"),
        "sepa_direct_debit": _("SEPA direct debit"),
        "cash": _("cash"),
    }
    return names.get(method.lower(), method.replace("_", " "))
