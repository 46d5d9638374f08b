"""Invoices for the e-invoice tests, one per situation issue 14 lists: one rate, several rates, a discount,
shipping, a free line, a card order paid, an invoice-paid order with IBAN, a US export, an intra-EU
supply, a reverse charge, 200 lines, German and English sellers, a seller with a tax number and a register
entry instead of a VAT ID, Unicode names. Built the way the
pipeline builds them (order event -> recalculate -> build_invoice_document), issued 25 Nov 2026."""

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from invoicing.document import DEFAULT_SELLER, BankDetails, InvoiceDocument, PostalAddress, build_invoice_document
from invoicing.einvoice import (
    EInvoiceSettings,
    ElectronicAddress,
    OrderFacts,
    PaymentCard,
    TaxCategoryChoice,
    VatCategory,
)
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event

BANK = BankDetails("Invoice Service Demo GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Commerzbank")
CUSTOMER = {"name": "Erika Mustermann", "email": "erika@example.com"}
# XRechnung needs the seller's contact (BT-41..43) and electronic address (BT-34); e-mail will do there.
SETTINGS = EInvoiceSettings(
    seller_electronic_address=ElectronicAddress("billing@example.com"),
    contact_name="Erika Beispiel",
    contact_phone="+49 30 1234567",
    contact_email="billing@example.com",
)
# Peppol routes by participant ID (no e-mail scheme): the seller's German VAT ID (EAS 9930), and a
# buyer ID the order would carry.
PEPPOL_SETTINGS = dataclasses.replace(SETTINGS, seller_electronic_address=ElectronicAddress("DE000000000", "9930"))
PEPPOL_BUYER = ElectronicAddress("DE111111125", "9930")


def entries(count: int, *, rate: int = 19, price: float = 0.5, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": str(i),
            "product": {"name": f"Article {i:03d}", "sku": f"SKU-{i}"},
            "amount": 1 + i % 3,
            "unitPrice": i + price,
            "taxRate": rate,
            **extra,
        }
        for i in range(1, count + 1)
    ]


def document(
    *,
    seller: dict[str, Any] | None = None,
    customer: dict[str, str] | None = None,
    captured: bool = False,
    **order: Any,
) -> InvoiceDocument:
    event = order_event("shop", "order-9", **order)
    event["order"]["customer"] = customer or CUSTOMER
    parsed = parse_order_event(encoded(event)).order
    return build_invoice_document(
        order=parsed,
        tenant="shop",
        totals=recalculate(parsed),
        invoice_number="INV-000042",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=dataclasses.replace(DEFAULT_SELLER, **(seller or {})),
    )


@dataclass(frozen=True)
class Case:
    name: str
    document: InvoiceDocument
    facts: OrderFacts = field(default_factory=OrderFacts)

    def peppol_facts(self) -> OrderFacts:
        return dataclasses.replace(self.facts, buyer_electronic_address=PEPPOL_BUYER)


US_BUYER = {"street": "5th Avenue", "streetNumber": "350", "zipCode": "10118", "city": "New York", "country": "US"}
UK_BUYER = {"street": "Deansgate", "streetNumber": "1", "zipCode": "M3 4LQ", "city": "Manchester", "country": "GB"}
FR_BUYER = {"street": "Rue de Rivoli", "streetNumber": "10", "zipCode": "75001", "city": "Paris", "country": "FR"}


def gross_line(id: str, amount: int, price: str, rate: str, discount: str = "0") -> dict[str, Any]:
    """A line of a gross order (pricesIncludeTax): the unit price and the discount include VAT."""
    entry = {"id": id, "product": {"name": f"Article {id}", "sku": f"SKU-{id}"}, "amount": amount}
    return {**entry, "unitPrice": float(price), "taxRate": float(rate), "discount": float(discount)}


FRENCH_SELLER: dict[str, Any] = {
    "legal_name": "Café Lumière SAS",
    "address": PostalAddress("Rue du Faubourg Saint-Antoine 12", "75011", "Paris", "FR"),
    "vat_id": "FR27552120222",
    "legal_registration_id": "552 120 222",
    "email": "factures@cafe-lumiere.example",
    "language": "fr",
    "locale": "fr_FR",
}
FR_BANK = BankDetails("Café Lumière SAS", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPPXXX", "Crédit Agricole")

UNICODE = "Müller & Söhne, Łódź, Ørsted, Zażółć gęślą jaźń"
SCRIPTS = "山田太郎 Παπαδόπουλος Иванов Žluťoučký"
JP_BUYER = {
    "street": "渋谷区神南一丁目",
    "streetNumber": "2-3",
    "zipCode": "150-0041",
    "city": "東京都",
    "country": "JP",
}


def cases() -> list[Case]:
    discount = entries(4, discount=1.5)
    free_line = [
        *entries(2),
        {"id": "9", "product": {"name": "Free sample", "sku": "GIFT"}, "amount": 1, "unitPrice": 0, "taxRate": 19},
    ]
    french_gross = [
        gross_line("1", 3, "9.99", "20"),
        gross_line("2", 1, "4.99", "20"),
        gross_line("3", 2, "3.35", "5.5"),
        gross_line("4", 1, "12.50", "10"),
        gross_line("5", 7, "0.55", "5.5"),
    ]
    german_gross = [
        gross_line(str(i), 1 + i % 4, f"{i * 3}.{i * 7 % 100:02d}", "19" if i % 3 else "7") for i in range(1, 12)
    ]
    return [
        # B2C orders stating gross prices (pricesIncludeTax): tax from the gross sum of each rate. The
        # French rates from the German seller (distance selling under OSS charges the buyer country's VAT);
        # a French seller would meet Mustang's French CTC rules (BR-FR: SIREN, PMT/PMD/AAB notes).
        Case(
            "gross-french-rates",
            document(
                entries=french_gross,
                shipping=None,
                pricesIncludeTax=True,
                billingAddress=FR_BUYER,
            ),
        ),
        # The same from a French seller (SIREN 552 120 222): BT-30 with scheme 0002 and the notes PMT, PMD and
        # AAB in French, which Mustang's French CTC rules (BR-FR) ask of a French seller.
        Case(
            "french-seller-gross",
            document(
                entries=french_gross,
                shipping={"amount": 4.90, "taxRate": 20},
                pricesIncludeTax=True,
                billingAddress=FR_BUYER,
                seller={"bank": FR_BANK, **FRENCH_SELLER},
            ),
        ),
        Case(
            "gross-discount-shipping",
            document(
                entries=[gross_line("1", 2, "19.99", "19", "2"), gross_line("2", 3, "5.35", "7", "0.99")],
                shipping={"amount": 4.95, "taxRate": 19},
                pricesIncludeTax=True,
                seller={"bank": BANK},
            ),
        ),
        Case(
            "gross-german-19-7",
            document(entries=german_gross, shipping={"amount": 3.99, "taxRate": 19}, pricesIncludeTax=True),
        ),
        Case("one-rate", document(entries=entries(10), shipping=None)),
        # the factories' order: 19 % and 7 %, shipping at 19 %
        Case("several-rates-shipping", document(seller={"bank": BANK})),
        Case("discount", document(entries=discount, shipping=None)),
        Case("shipping-7", document(entries=entries(3, rate=7), shipping={"amount": 5.95, "taxRate": 7})),
        Case("free-line", document(entries=free_line)),
        Case(
            "card-paid",
            document(payments=[{"method": "creditcard", "status": "CAPTURED"}], seller={"bank": BANK}),
            OrderFacts(payment_card=PaymentCard("4242", "VISA", "Erika Mustermann")),
        ),
        Case("paypal-paid", document(payments=[{"method": "paypal", "status": "CAPTURED"}])),
        Case("invoice-due-iban", document(seller={"bank": BANK})),
        Case(
            "us-export",
            document(
                entries=entries(3, rate=0),
                shipping={"amount": 25, "taxRate": 0},
                billingAddress=US_BUYER,
                currency="USD",
                seller={"bank": BANK},
            ),
        ),
        Case(
            "intra-eu-supply",
            document(
                entries=entries(3, rate=0),
                shipping={"amount": 9.9, "taxRate": 0},
                billingAddress=FR_BUYER,
                customer={**CUSTOMER, "company": "Café de Paris SARL", "vatId": "FR40303265045"},
            ),
        ),
        Case(
            "reverse-charge",
            document(
                entries=entries(2, rate=0),
                shipping=None,
                billingAddress={**FR_BUYER, "city": "Lyon", "zipCode": "69001"},
                customer={**CUSTOMER, "company": "Conseil Lyon SAS", "vatId": "FR40303265045"},
            ),
            OrderFacts(
                line_tax_categories={
                    1: TaxCategoryChoice(VatCategory.REVERSE_CHARGE),
                    2: TaxCategoryChoice(VatCategory.REVERSE_CHARGE),
                }
            ),
        ),
        Case("lines-200", document(entries=entries(200), seller={"bank": BANK})),
        Case(
            "german-seller",
            document(
                entries=discount,
                seller={
                    "language": "de",
                    "locale": "de_DE",
                    "bank": BANK,
                    "tax_number": "27/123/45678",
                    "footer": "Geschäftsführerin: Erika Beispiel · Amtsgericht Berlin HRB 12345",
                },
            ),
        ),
        Case(
            # a German seller with a tax number (Steuernummer) and a register entry, and no VAT ID
            "tax-number-and-register",
            document(
                seller={
                    "language": "de",
                    "locale": "de_DE",
                    "vat_id": None,
                    "tax_number": "27/123/45678",
                    "legal_registration_id": "HRB 12345 B, Amtsgericht Charlottenburg",
                },
            ),
        ),
        Case(
            # a UK seller invoicing a UK buyer in GBP, UK VAT 20 %
            "english-seller",
            document(
                entries=entries(3, rate=20),
                shipping={"amount": 3.5, "taxRate": 20},
                billingAddress=UK_BUYER,
                currency="GBP",
                seller={
                    "legal_name": "Teapot Ltd",
                    "language": "en",
                    "locale": "en_GB",
                    "vat_id": "GB123456789",
                    "address": PostalAddress("221B Baker Street", "NW1 6XE", "London", "GB"),
                },
            ),
        ),
        Case(
            "unicode-names",
            document(
                entries=[
                    {
                        "id": "1",
                        "product": {"name": f"Kaffee {UNICODE}", "sku": "Ø-1"},
                        "amount": 1,
                        "unitPrice": 1,
                        "taxRate": 19,
                    }
                ],
                customer={"name": UNICODE, "company": "Ørsted & Müller GmbH", "email": "zazolc@example.com"},
                shippingAddress={
                    "street": "Piotrkowska",
                    "streetNumber": "1",
                    "zipCode": "90-001",
                    "city": "Łódź",
                    "country": "PL",
                    "contactName": "Zażółć gęślą jaźń",
                },
                seller={"legal_name": "Ørsted & Müller GmbH", "footer": "Łódź · Zażółć gęślą jaźń · €"},
            ),
        ),
        Case(  # drawn with the Noto fallbacks (Noto Sans CJK as TrueType subsets): still PDF/A-3b
            "every-script",
            document(
                customer={"name": SCRIPTS, "company": "Иванов & Παπαδόπουλος", "email": "yamada@example.com"},
                billingAddress=JP_BUYER,
                shippingAddress={**JP_BUYER, "contactName": "김철수 王小明"},
            ),
        ),
    ]
