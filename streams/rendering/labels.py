"""The invoice's fixed wording in English and German, chosen by SellerDetails.language."""

from typing import TypedDict


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


ENGLISH = Labels(
    invoice="Invoice",
    invoice_number="Invoice number",
    invoice_date="Invoice date",
    delivery_date="Delivery date",
    order_number="Order number",
    order_date="Order date",
    billing_address="Billing address",
    shipping_address="Shipping address",
    vat_id="VAT ID",
    tax_number="Tax number",
    legal_registration="Company register",
    email="Email",
    phone="Phone",
    position="Pos.",
    description="Description",
    sku="SKU",
    quantity="Qty",
    unit_price="Unit price",
    discount="Discount",
    net="Net",
    tax_rate="VAT",
    shipping="Shipping",
    subtotal="Subtotal (net)",
    tax_on="VAT {rate} on {base}",
    total="Total ({currency})",
    paid="Paid by {method} on {date}. Thank you!",
    due="Please pay {total} by {date}, quoting the invoice number {number}.",
    account_holder="Account holder",
    iban="IBAN",
    bic="BIC",
    bank_name="Bank",
    reference="Reference",
    continued="{invoice} {number} (continued)",
    page="Page {page} of {pages}",
    credit_note="Credit note",
    credit_note_number="Credit note number",
    credit_note_date="Credit note date",
    corrects="Corrects invoice",
    refunded="The amount of {total} is refunded by {method}.",
    credited="The amount of {total} is credited against invoice {invoice}.",
    unit_price_gross="Gross price",
    gross="Gross",
    gross_at="Gross at {rate}",
)

GERMAN = Labels(
    invoice="Rechnung",
    invoice_number="Rechnungsnummer",
    invoice_date="Rechnungsdatum",
    delivery_date="Lieferdatum",
    order_number="Bestellnummer",
    order_date="Bestelldatum",
    billing_address="Rechnungsadresse",
    shipping_address="Lieferadresse",
    vat_id="USt-IdNr.",
    tax_number="Steuernummer",
    legal_registration="Handelsregister",
    email="E-Mail",
    phone="Telefon",
    position="Pos.",
    description="Beschreibung",
    sku="Art.-Nr.",
    quantity="Menge",
    unit_price="Einzelpreis",
    discount="Rabatt",
    net="Netto",
    tax_rate="USt.",
    shipping="Versand",
    subtotal="Zwischensumme (netto)",
    tax_on="USt. {rate} auf {base}",
    total="Gesamtbetrag ({currency})",
    paid="Bezahlt per {method} am {date}. Vielen Dank!",
    due="Bitte überweisen Sie {total} bis zum {date} unter Angabe der Rechnungsnummer {number}.",
    account_holder="Kontoinhaber",
    iban="IBAN",
    bic="BIC",
    bank_name="Bank",
    reference="Verwendungszweck",
    continued="{invoice} {number} (Fortsetzung)",
    page="Seite {page} von {pages}",
    credit_note="Rechnungskorrektur",
    credit_note_number="Korrekturnummer",
    credit_note_date="Korrekturdatum",
    corrects="Korrigiert Rechnung",
    refunded="Der Betrag von {total} wird per {method} erstattet.",
    credited="Der Betrag von {total} wird mit der Rechnung {invoice} verrechnet.",
    unit_price_gross="Bruttopreis",
    gross="Brutto",
    gross_at="Brutto {rate}",
)

LABELS: dict[str, Labels] = {"en": ENGLISH, "de": GERMAN}


def labels_for(language: str) -> Labels:
    """Labels for the seller's language; English for any language without its own."""
    return LABELS.get(language, ENGLISH)


# Payment methods as orders name them, in words; any other method is shown as given, "_" as spaces.
PAYMENT_METHODS: dict[str, dict[str, str]] = {
    "en": {
        "paypal": "PayPal",
        "credit_card": "credit card",
        "debit_card": "debit card",
        "invoice": "invoice",
        "bank_transfer": "bank transfer",
        "sepa_direct_debit": "SEPA direct debit",
        "cash": "cash",
    },
    "de": {
        "paypal": "PayPal",
        "credit_card": "Kreditkarte",
        "debit_card": "Debitkarte",
        "invoice": "Rechnung",
        "bank_transfer": "Überweisung",
        "sepa_direct_debit": "SEPA-Lastschrift",
        "cash": "Barzahlung",
    },
}


def payment_method_name(method: str, language: str) -> str:
    names = PAYMENT_METHODS.get(language, PAYMENT_METHODS["en"])
    return names.get(method.lower(), method.replace("_", " "))
