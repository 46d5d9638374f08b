"""The store contract of payments (infra/settlements.py, infra/invoices.py) over the fake and MongoDB:
a partial, a full and one payment too many; a retry under the same key; two concurrent payments that
together exceed what is due; the filters by payment status and due date."""

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from infra.records import InvoiceFilter, InvoiceRecord, RefundState, RefundStatus
from invoicing.settlement import (
    InvoicePaymentStatus,
    KeyReused,
    Overpayment,
    Payment,
    PaymentSource,
    with_digest,
)
from tests.integration.store_contracts import Stores, document

pytestmark = pytest.mark.integration

GROSS = Decimal("58.76")  # the factory order's gross total


async def issued(stores: Stores, tenant: str, order_id: str = "o-1", number: str = "N1") -> InvoiceRecord:
    record = await stores.invoices.allocate(
        tenant=tenant, order_id=order_id, job_id="j1", seq=int(number[1:]), number=number,
        document=document(tenant, order_id, number),
    )  # fmt: skip
    assert record is not None
    await stores.invoices.mark_issued(record, f"{tenant}/{number}.pdf")
    found = await stores.invoices.find_by_number(tenant, number)
    assert found is not None
    return found


def payment(amount: str, key: str | None = None, reference: str = "ref") -> Payment:
    return with_digest(
        Payment(
            payment_id=f"p-{amount}-{key}-{reference}",
            amount=Decimal(amount),
            currency="EUR",
            date=date(2026, 12, 10),
            method="bank_transfer",
            reference=reference,
            recorded_at=datetime.now(UTC),
            source=PaymentSource.API,
            idempotency_key=key,
        )
    )


async def test_a_new_invoice_is_open_for_its_gross_and_due_on_its_due_date(stores: Stores, tenant: str) -> None:
    invoice = await issued(stores, tenant)
    assert invoice.payment_status is InvoicePaymentStatus.OPEN
    assert (invoice.settled.amount_due, invoice.settled.paid, len(invoice.payments)) == (GROSS, Decimal(0), 0)
    assert invoice.due_on == invoice.invoice_document().payment.due_on is not None


async def test_partial_then_full_then_one_too_many(stores: Stores, tenant: str) -> None:
    invoice = await issued(stores, tenant)
    first = await stores.invoices.record_payment(invoice, payment("20.00"))
    assert (first.settlement.status, first.settlement.amount_due, first.became_paid) == (
        "partially_paid",
        Decimal("38.76"),
        False,
    )
    full = await stores.invoices.record_payment(invoice, payment("38.76"))
    assert (full.settlement.status, full.settlement.amount_due, full.became_paid) == (
        InvoicePaymentStatus.PAID,
        Decimal(0),
        True,
    )
    with pytest.raises(Overpayment) as refused:
        await stores.invoices.record_payment(invoice, payment("0.01"))
    assert refused.value.amount_due == 0
    stored = await stores.invoices.find_by_number(tenant, "N1")
    assert stored is not None and stored.payment_status is InvoicePaymentStatus.PAID
    assert [p.amount for p in stored.payments] == [Decimal("20.00"), Decimal("38.76")]
    assert stored.settled.paid == GROSS


async def test_a_retry_under_the_same_key_answers_the_first_payment(stores: Stores, tenant: str) -> None:
    invoice = await issued(stores, tenant)
    first = await stores.invoices.record_payment(invoice, payment("10.00", key="k1"))
    again = await stores.invoices.record_payment(invoice, replace(payment("10.00", key="k1"), payment_id="other"))
    assert again.replayed and again.payment.payment_id == first.payment.payment_id
    with pytest.raises(KeyReused):
        await stores.invoices.record_payment(invoice, payment("11.00", key="k1"))
    stored = await stores.invoices.find_by_number(tenant, "N1")
    assert stored is not None and len(stored.payments) == 1 and stored.settled.paid == Decimal("10.00")


async def test_of_two_concurrent_payments_exceeding_what_is_due_exactly_one_wins(stores: Stores, tenant: str) -> None:
    invoice = await issued(stores, tenant)
    for round_ in range(3):
        number = f"N{round_ + 2}"
        invoice = await issued(stores, tenant, f"o-{number}", number)
        results = await asyncio.gather(
            *(stores.invoices.record_payment(invoice, payment("40.00", reference=f"r{n}")) for n in range(2)),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["Overpayment", "PaymentResult"]
        stored = await stores.invoices.find_by_number(tenant, number)
        assert stored is not None and stored.settled.paid == Decimal("40.00") and len(stored.payments) == 1


async def test_the_list_filters_by_payment_status_and_due_date(stores: Stores, tenant: str) -> None:
    unpaid = await issued(stores, tenant, "o-1", "N1")
    partly = await issued(stores, tenant, "o-2", "N2")
    paid = await issued(stores, tenant, "o-3", "N3")
    await stores.invoices.record_payment(partly, payment("1.00"))
    await stores.invoices.record_payment(paid, payment(str(GROSS)))
    due = unpaid.due_on
    assert due is not None

    async def numbers(**where: object) -> list[str]:
        page = await stores.invoices.issued_invoices(tenant, InvoiceFilter(**where), None, 10)  # type: ignore[arg-type]
        return sorted(i.record.number for i in page)

    before_due, after_due = due - timedelta(days=1), due + timedelta(days=1)
    assert await numbers(payment_status=InvoicePaymentStatus.PAID) == ["N3"]
    assert await numbers(payment_status=InvoicePaymentStatus.OPEN, today=before_due) == ["N1"]
    assert await numbers(payment_status=InvoicePaymentStatus.PARTIALLY_PAID, today=before_due) == ["N2"]
    assert await numbers(payment_status=InvoicePaymentStatus.OVERDUE, today=before_due) == []
    assert await numbers(payment_status=InvoicePaymentStatus.OVERDUE, today=after_due) == ["N1", "N2"]
    assert await numbers(payment_status=InvoicePaymentStatus.OPEN, today=after_due) == []
    assert await numbers(due_to=after_due) == ["N1", "N2", "N3"]
    assert await numbers(due_from=after_due) == []
    assert await numbers(
        due_from=due, due_to=after_due, payment_status=InvoicePaymentStatus.OVERDUE, today=after_due
    ) == ["N1", "N2"]


async def test_a_credit_note_lowers_what_is_due_and_a_full_one_makes_it_credited(stores: Stores, tenant: str) -> None:
    """MongoDB only: the fake credit-note store keeps its summaries apart from the fake invoices."""
    if stores.kind == "memory":
        pytest.skip("the credit projection writes onto the invoice document")
    invoice = await issued(stores, tenant)
    await stores.invoices.record_payment(invoice, payment("10.00"))
    await stores.credit_notes.allocate(
        tenant=tenant, note_id=f"{tenant}-cn", order_id="o-1", invoice_number="N1", ordinal=1, seq=1,
        number="CN-1", reason="returned", document=document(tenant, "o-1", "CN-1"), logo_sha256=None,
        refund=RefundState(RefundStatus.NOT_NEEDED, GROSS),
    )  # fmt: skip
    await stores.credit_notes.project_onto_invoice(tenant, "N1")
    await stores.credit_notes.project_onto_invoice(tenant, "N1")  # a repeat changes nothing
    stored = await stores.invoices.find_by_number(tenant, "N1")
    assert stored is not None
    assert (stored.payment_status, stored.settled.amount_due, stored.settled.credited) == (
        InvoicePaymentStatus.CREDITED,
        Decimal(0),
        GROSS,
    )
    with pytest.raises(Overpayment):
        await stores.invoices.record_payment(stored, payment("1.00"))
    page = await stores.invoices.issued_invoices(
        tenant, InvoiceFilter(payment_status=InvoicePaymentStatus.CREDITED), None, 10
    )
    assert [i.record.number for i in page] == ["N1"]


async def test_an_invoice_stored_before_settlements_takes_a_payment(stores: Stores, tenant: str) -> None:
    """MongoDB only: a document without the settlement fields (from before them) reads as its document
    implies, and its first payment writes them (the version filter matches the missing field)."""
    if stores.kind == "memory":
        pytest.skip("the fake has no documents from before")
    invoice = await issued(stores, tenant)
    fields = ["paymentStatus", "settled", "amountPaid", "amountDue", "dueOn", "payments", "settlementVersion"]
    await stores.raw_db.invoices.update_one({"_id": invoice.record_id}, {"$unset": dict.fromkeys(fields, "")})
    old = await stores.invoices.find_by_number(tenant, "N1")
    assert old is not None and old.settled.amount_due == GROSS and old.due_on == invoice.due_on
    result = await stores.invoices.record_payment(old, payment("8.76"))
    assert result.settlement.amount_due == Decimal("50.00")
    raw = await stores.raw_db.invoices.find_one({"_id": invoice.record_id})
    assert (raw["paymentStatus"], raw["amountDue"], raw["settlementVersion"], len(raw["payments"])) == (
        "partially_paid",
        "50.00",
        1,
        1,
    )
    assert invoice.due_on is not None and raw["dueOn"] == invoice.due_on.isoformat()
