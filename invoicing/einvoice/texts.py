"""The words the e-invoice XML itself writes (BT-20 payment terms, BT-82 payment means, BT-104 charge
reason, BT-139 allowance reason), from the message catalogs like the PDF's (invoicing/language.py): the
msgids are the English wording, marked with N_ for `pybabel extract`, translated where they are used."""

from invoicing.language import N_, gettext

PAID_ON = N_("Paid on {date}.")
PAID_BY_ON = N_("Paid by {method} on {date}.")
PAYABLE_BY = N_("Payable by {date} without deduction, quoting the invoice number {number}.")
SEPA_CREDIT_TRANSFER = N_("SEPA credit transfer")
SHIPPING_CHARGE = N_("Shipping costs")
LINE_DISCOUNT = N_("Discount")


def einvoice_text(language: str, message: str, **values: str) -> str:
    """`message` (one of the msgids above) in `language`, its placeholders filled."""
    translated = gettext(language, message)
    return translated.format(**values) if values else translated
