"""Which invoice of an order: an order has its first invoice, and is invoiced again (its 2nd, 3rd, ...
invoice, by a MANUAL job) only once its current one is credited in full. Each invoice's identity names
its tenant, its order and its generation; the store keeps the invoice and its capture under it, and the
payment gateway's idempotency key is made from it."""

FIRST_INVOICE = 1  # the generation of an order's first invoice


def invoice_identity(tenant: str, order_id: str, generation: int = FIRST_INVOICE) -> str:
    """`tenant:orderId` for an order's first invoice, `tenant#N:orderId` for its Nth. Tenants are
    [a-z0-9]+, so '#' never occurs where a first invoice's identity has its ':' and no two identities meet,
    whatever characters order IDs hold."""
    return f"{tenant}:{order_id}" if generation == FIRST_INVOICE else f"{tenant}#{generation}:{order_id}"
