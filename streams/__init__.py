"""The stream worker (Faust): one agent per step of the invoicing flow.

order-events ──orders──▶ order store (MongoDB)
invoice-job-requests ──plan──▶ invoice-order-results (JobPlanned) + invoice-order-requests
invoice-order-requests ──invoice──▶ invoice-order-results (OrderInvoiced | OrderFailed)
                                   + invoice-emails (InvoiceEmailRequested, when the first send failed)
invoice-emails ──emails──▶ the customer's inbox (SMTP), retried with backoff
invoice-order-results ──project──▶ job documents (MongoDB), read by the API
"""
