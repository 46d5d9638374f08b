"""The stream worker (Faust): one agent per step of the invoicing flow.

order-events ──orders──▶ order store (MongoDB)
invoice-job-requests ──plan──▶ invoice-order-results (JobPlanned) + invoice-order-requests
invoice-order-requests ──invoice──▶ invoice-order-results (OrderInvoiced | OrderFailed)
invoice-order-results ──project──▶ job documents (MongoDB), read by the API
"""
