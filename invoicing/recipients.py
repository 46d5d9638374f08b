"""To whom an invoice is emailed, and why sometimes to no one: pure rules, no I/O."""

import re

# The same rule as a seller's email in the tenant settings: something@domain.tld, no spaces. Stricter
# checks belong to the mail server, which answers an unknown address with a refusal.
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ADDRESS_LENGTH = 254


class NoRecipient(Exception):
    """Nobody to send the invoice to; the message says why."""


def recipient_problem(address: str | None) -> str | None:
    """Why no email can be sent to `address` (the order's customer email), or None when one can."""
    if address is None or not address.strip():
        return "the order has no customer email address"
    if len(address) > MAX_ADDRESS_LENGTH or not EMAIL_ADDRESS.match(address.strip()):
        return f"the customer email address {address[:80]!r} is not valid"
    return None


def invoice_recipient(address: str | None) -> str:
    """The address to email the invoice to (the customer email on the invoice, trimmed); raises
    NoRecipient saying why there is none."""
    problem = recipient_problem(address)
    if problem is not None or address is None:
        raise NoRecipient(problem)
    return address.strip()
