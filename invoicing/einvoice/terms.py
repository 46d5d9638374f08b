"""The invoice as EN 16931 business terms: the one place where the invoice document is mapped to BT/BG
numbers. The CII and UBL writers only spell these terms in their syntax; they decide nothing.

Money stays Decimal. Amounts are the document's own (rounded once, by invoicing.recalculation); the VAT
breakdown is regrouped by category and rate and checked to give the document's taxes and total to the
cent, so the XML and the PDF always say the same.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from invoicing.document import (
    BuyerReferenceSource,
    DocumentKind,
    EInvoiceSettings,
    ElectronicAddress,
    InvoiceDocument,
    PostalAddress,
)
from invoicing.einvoice.notes import (
    Note,
    document_notes,
    legal_registration_id,
    legal_registration_scheme,
    seller_electronic_address,
)
from invoicing.einvoice.payment import PaymentCard, PaymentInstructions, payment_instructions, payment_terms
from invoicing.einvoice.texts import LINE_DISCOUNT, SHIPPING_CHARGE, einvoice_text
from invoicing.einvoice.vat import TaxCategoryChoice, VatCategory, VatTreatment, vat_treatment
from invoicing.recalculation import TaxChoice, Totals

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class OrderFacts:
    """What the invoice document does not carry (the card's last digits), and overrides of what it does
    (VAT categories and the buyer's electronic address come from the order, through the document)."""

    line_tax_categories: Mapping[int, TaxCategoryChoice] = field(default_factory=dict)  # by line position
    shipping_tax_category: TaxCategoryChoice | None = None
    payment_card: PaymentCard | None = None
    buyer_electronic_address: ElectronicAddress | None = None  # else the buyer's email (scheme EM)


# --- the business terms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """BG-5 (seller), BG-8 (buyer), BG-15 (deliver to)."""

    line_one: str  # BT-35 / BT-50 / BT-75
    city: str  # BT-37 / BT-52 / BT-77
    post_code: str  # BT-38 / BT-53 / BT-78
    country: str  # BT-40 / BT-55 / BT-80, ISO 3166-1 alpha-2
    subdivision: str | None = None  # BT-39 / BT-54 / BT-79


@dataclass(frozen=True)
class Contact:
    """BG-6 (seller contact) or BG-9 (buyer contact)."""

    name: str | None  # BT-41 / BT-56
    phone: str | None  # BT-42 / BT-57
    email: str | None  # BT-43 / BT-58


@dataclass(frozen=True)
class Party:
    """BG-4 (seller) or BG-7 (buyer)."""

    name: str  # BT-27 / BT-44
    address: Address  # BG-5 / BG-8
    vat_id: str | None  # BT-31 / BT-48
    electronic_address: ElectronicAddress | None  # BT-34 / BT-49
    contact: Contact | None  # BG-6 / BG-9
    tax_number: str | None = None  # BT-32 (seller only)
    legal_registration_id: str | None = None  # BT-30 / BT-47
    legal_registration_scheme: str | None = None  # BT-30-1 (seller only), ISO 6523 ICD


@dataclass(frozen=True)
class Delivery:
    """BG-13."""

    party_name: str | None  # BT-70
    actual_date: date | None  # BT-72
    address: Address | None  # BG-15


@dataclass(frozen=True)
class Line:
    """BG-25 with its price (BG-29), item (BG-31), VAT (BG-30) and allowance (BG-27)."""

    id: str  # BT-126
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130, UN/ECE Rec. 20
    net_amount: Decimal  # BT-131
    allowance: Decimal  # BG-27 BT-136; ZERO when the line has no discount
    net_price: Decimal  # BT-146
    item_name: str  # BT-153
    seller_item_id: str | None  # BT-155
    vat: VatTreatment  # BT-151, BT-152


@dataclass(frozen=True)
class Charge:
    """BG-21, a document level charge (the shipping)."""

    amount: Decimal  # BT-99
    reason: str  # BT-104
    reason_code: str  # BT-105, UNTDID 7161
    vat: VatTreatment  # BT-102, BT-103


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23, one per VAT category and rate."""

    base: Decimal  # BT-116
    tax: Decimal  # BT-117
    vat: VatTreatment  # BT-118, BT-119, BT-120, BT-121


@dataclass(frozen=True)
class DocumentTotals:
    """BG-22."""

    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    paid: Decimal  # BT-113
    due: Decimal  # BT-115


@dataclass(frozen=True)
class PrecedingInvoiceReference:
    """BG-3: the invoice a credit note corrects."""

    number: str  # BT-25
    issue_date: date  # BT-26


@dataclass(frozen=True)
class EInvoice:
    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: str  # BT-3, UNTDID 1001: 380 commercial invoice, 381 credit note
    currency: str  # BT-5
    due_date: date | None  # BT-9
    buyer_reference: str | None  # BT-10
    sales_order_reference: str  # BT-14
    payment_terms: str  # BT-20
    notes: tuple[Note, ...]  # BG-1: BT-21, BT-22
    seller: Party  # BG-4
    buyer: Party  # BG-7
    delivery: Delivery | None  # BG-13
    payment: PaymentInstructions  # BG-16
    charges: tuple[Charge, ...]  # BG-21
    totals: DocumentTotals  # BG-22
    vat_breakdown: tuple[VatBreakdown, ...]  # BG-23
    lines: tuple[Line, ...]  # BG-25
    language: str  # the seller's language, for texts the mapping writes (BT-20, BT-120)
    line_allowance_reason: str = "Discount"  # BT-139 of every line's discount, in that language
    preceding_invoice: PrecedingInvoiceReference | None = None  # BG-3, set for a credit note


class TotalsMismatch(AssertionError):
    """The business terms would not add up to the document's figures: a bug, never a data problem."""


# --- the mapping ----------------------------------------------------------------------------------

UNIT_ONE = "C62"  # UN/ECE Rec. 20 "one": items counted as such
CHARGE_FREIGHT = "FC"  # UNTDID 7161 freight charge
INVOICE = "380"  # UNTDID 1001 commercial invoice
CREDIT_NOTE = "381"  # UNTDID 1001 credit note (amounts positive, as on the credit-note PDF)


def address(postal: PostalAddress) -> Address:
    return Address(postal.street, postal.city, postal.zip_code, postal.country, postal.state)


def delivery_address(document: InvoiceDocument) -> PostalAddress:
    return document.buyer.shipping_address or document.buyer.billing_address


def buyer_reference(document: InvoiceDocument, settings: EInvoiceSettings) -> str | None:
    match settings.buyer_reference_source:
        case BuyerReferenceSource.ORDER_ID:
            return document.order_id
        case BuyerReferenceSource.ORDER_FIELD:
            return document.buyer_reference
        case BuyerReferenceSource.FIXED:
            return settings.buyer_reference
        case BuyerReferenceSource.NONE:
            return None


def order_choice(choice: TaxChoice | None) -> TaxCategoryChoice | None:
    """The order's explicit VAT category of a line or the shipping (the order contract's taxCategory)."""
    if choice is None:
        return None
    return TaxCategoryChoice(VatCategory(choice.category), choice.exemption_reason, choice.exemption_reason_code)


def _round_tax(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_breakdown(lines: tuple[Line, ...], charges: tuple[Charge, ...]) -> tuple[VatBreakdown, ...]:
    """BG-23: one row per category and rate, its base the sum of the line nets and charges in it (no
    document level allowances here), its tax rounded once per row, as the document's taxes are."""
    rows: dict[tuple[VatCategory, Decimal], tuple[Decimal, VatTreatment]] = {}
    for amount, vat in [(line.net_amount, line.vat) for line in lines] + [(c.amount, c.vat) for c in charges]:
        key = (vat.category, vat.rate)
        base, first = rows.get(key, (ZERO, vat))
        rows[key] = (base + amount, first)
    return tuple(
        VatBreakdown(base=base, tax=_round_tax(base * vat.rate / 100), vat=vat)
        for (_, _), (base, vat) in sorted(rows.items(), key=lambda item: (item[0][1], item[0][0].value))
    )


def stating_document_tax(breakdown: tuple[VatBreakdown, ...], totals: Totals) -> tuple[VatBreakdown, ...]:
    """A credit note's or a gross invoice's tax per rate as its document has it. The credit note that takes
    the last of an invoice takes the tax left at each rate (invoicing/credit.py), so that all of them add up
    to the invoice; a gross invoice's tax is the VAT within each rate's gross sum (invoicing/recalculation.py).
    Either may be a cent off its base x rate, which BR-CO-17 allows (one unit either way). The
    difference goes onto the first row of the rate."""
    wanted: dict[Decimal, Decimal] = {}
    for tax_row in totals.taxes:
        wanted[tax_row.rate] = wanted.get(tax_row.rate, ZERO) + tax_row.tax
    rows = list(breakdown)
    for rate, tax in wanted.items():
        at_rate = [index for index, row in enumerate(rows) if row.vat.rate == rate]
        if at_rate:
            first = rows[at_rate[0]]
            rows[at_rate[0]] = replace(first, tax=first.tax + tax - sum((rows[i].tax for i in at_rate), ZERO))
    return tuple(rows)


def _check_against_document(einvoice: EInvoice, document: InvoiceDocument) -> None:
    """The XML's totals are the PDF's: BT-109 is the PDF's net subtotal, BT-110 the sum of its tax rows,
    BT-112 its total; and each rate's tax equals the PDF's row for that rate."""
    totals = document.totals
    tax_by_rate: dict[Decimal, Decimal] = {}
    for row in einvoice.vat_breakdown:
        tax_by_rate[row.vat.rate] = tax_by_rate.get(row.vat.rate, ZERO) + row.tax
    document_tax_by_rate: dict[Decimal, Decimal] = {}
    for document_row in totals.taxes:
        document_tax_by_rate[document_row.rate] = document_tax_by_rate.get(document_row.rate, ZERO) + document_row.tax
    if tax_by_rate != document_tax_by_rate:
        raise TotalsMismatch(f"VAT per rate {tax_by_rate} differs from the document's {document_tax_by_rate}")
    expected = (totals.subtotal + totals.shipping_net, totals.tax_total, totals.total)
    actual = (einvoice.totals.tax_exclusive, einvoice.totals.tax_total, einvoice.totals.tax_inclusive)
    if actual != expected:
        raise TotalsMismatch(f"BT-109, BT-110, BT-112 are {actual}; the document's figures are {expected}")


def vat_treatments(document: InvoiceDocument) -> Callable[[Decimal, TaxCategoryChoice | None], VatTreatment]:
    """The VAT treatment of a rate and the order's explicit category on this document: the category (the
    explicit one, else derived from where the goods go) and its exemption reason."""
    seller, buyer = document.seller, document.buyer
    delivery_country = delivery_address(document).country

    @cache  # lines share a handful of rates: one treatment each
    def treatment(rate: Decimal, explicit: TaxCategoryChoice | None) -> VatTreatment:
        return vat_treatment(
            rate,
            explicit,
            seller_country=seller.address.country,
            delivery_country=delivery_country,
            buyer_vat_id=buyer.vat_id,
            language=seller.language,
        )

    return treatment


def business_terms(document: InvoiceDocument, settings: EInvoiceSettings, facts: OrderFacts | None = None) -> EInvoice:
    """The EN 16931 business terms of `document`: complete for EN 16931, whatever a stricter format
    (XRechnung, Peppol) needs in addition is checked by invoicing.einvoice.formats."""
    facts = facts or OrderFacts()
    seller, buyer, totals = document.seller, document.buyer, document.totals
    language = seller.language
    delivery_postal = delivery_address(document)

    treatment = vat_treatments(document)

    lines = tuple(
        Line(
            id=str(line.position),
            quantity=line.quantity,
            unit_code=UNIT_ONE,
            net_amount=line.net,
            allowance=line.discount.quantize(CENT, rounding=ROUND_HALF_UP),
            net_price=line.unit_price,
            item_name=line.description,
            seller_item_id=line.sku,
            vat=treatment(line.tax_rate, facts.line_tax_categories.get(line.position) or order_choice(line.tax)),
        )
        for line in totals.lines
    )
    charges: tuple[Charge, ...] = ()
    if totals.shipping_tax_rate is not None:
        shipping_vat = treatment(
            totals.shipping_tax_rate, facts.shipping_tax_category or order_choice(totals.shipping_tax)
        )
        reason = einvoice_text(language, SHIPPING_CHARGE)
        charges = (Charge(totals.shipping_net, reason, CHARGE_FREIGHT, shipping_vat),)
    breakdown = vat_breakdown(lines, charges)
    if document.kind is DocumentKind.CREDIT_NOTE or totals.prices_include_tax:
        breakdown = stating_document_tax(breakdown, totals)

    line_total = sum((line.net_amount for line in lines), ZERO)
    charge_total = sum((charge.amount for charge in charges), ZERO)
    tax_total = sum((row.tax for row in breakdown), ZERO)
    tax_exclusive = line_total + charge_total
    tax_inclusive = tax_exclusive + tax_total
    paid = tax_inclusive if document.payment.paid else ZERO

    contact = Contact(
        name=settings.contact_name,
        phone=settings.contact_phone or seller.phone,
        email=settings.contact_email or seller.email,
    )
    buyer_contact = Contact(name=buyer.name if buyer.company else None, phone=None, email=buyer.email)
    buyer_address = (
        facts.buyer_electronic_address
        or buyer.electronic_address
        or (ElectronicAddress(buyer.email) if buyer.email else None)
    )
    # BG-13: where the goods went. Stated when it differs from the billing address, and whenever a line
    # is an intra-Community supply, whose deliver-to country is mandatory (BR-IC-12).
    intra_community = any(row.vat.category is VatCategory.INTRA_COMMUNITY for row in breakdown)
    delivery_party = None
    delivery_place = None
    if buyer.shipping_address is not None or intra_community:
        delivery_place = address(delivery_postal)
        delivery_party = ", ".join(delivery_postal.recipient) or buyer.company or buyer.name
    delivery = (
        Delivery(delivery_party, document.delivery_date, delivery_place)
        if delivery_place is not None or document.delivery_date is not None
        else None
    )

    einvoice = EInvoice(
        number=document.invoice_number,
        issue_date=document.invoice_date,
        type_code=CREDIT_NOTE if document.kind is DocumentKind.CREDIT_NOTE else INVOICE,
        currency=totals.currency,
        due_date=None if document.payment.paid else document.payment.due_on,
        buyer_reference=buyer_reference(document, settings),
        sales_order_reference=document.order_id,
        payment_terms=payment_terms(document),
        notes=document_notes(document),
        seller=Party(
            name=seller.legal_name,
            address=address(seller.address),
            vat_id=seller.vat_id,
            electronic_address=seller_electronic_address(seller, settings.seller_electronic_address),
            contact=contact,
            tax_number=seller.tax_number,
            legal_registration_id=legal_registration_id(seller),
            legal_registration_scheme=legal_registration_scheme(seller),
        ),
        buyer=Party(
            name=buyer.company or buyer.name,
            address=address(buyer.billing_address),
            vat_id=buyer.vat_id,
            electronic_address=buyer_address,
            contact=buyer_contact if (buyer_contact.name or buyer_contact.email) else None,
        ),
        delivery=delivery,
        payment=payment_instructions(document, facts.payment_card),
        charges=charges,
        totals=DocumentTotals(
            line_total=line_total,
            allowance_total=ZERO,
            charge_total=charge_total,
            tax_exclusive=tax_exclusive,
            tax_total=tax_total,
            tax_inclusive=tax_inclusive,
            paid=paid,
            due=tax_inclusive - paid,
        ),
        vat_breakdown=breakdown,
        lines=lines,
        language=language,
        line_allowance_reason=einvoice_text(language, LINE_DISCOUNT),
        preceding_invoice=(
            PrecedingInvoiceReference(document.preceding_invoice.number, document.preceding_invoice.issued_on)
            if document.preceding_invoice is not None
            else None
        ),
    )
    _check_against_document(einvoice, document)
    return einvoice
