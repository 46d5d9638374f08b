"""To whom an invoice is emailed, and why sometimes to no one: pure rules, no I/O.

A customer's address is personal data: the invoice and the tenant's job results hold it, logs never do.
What a log line says about an address is its redacted form (`redacted_address`).
"""

import re

# The same rule as a seller's email in the tenant settings: something@domain.tld, no spaces. Stricter
# checks belong to the mail server, which answers an unknown address with a refusal.
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ADDRESS_LENGTH = 254


def redacted_address(address: str) -> str:
    """`j***@e***.com` for `jane.doe@example.com`: enough to tell two addresses apart in a log line, not to
    read them; whatever the text is (an invalid address may hold anything)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return f"{domain[:1]}***"
    name, dot, top = domain.rpartition(".")
    if not dot or not top.isalpha() or len(top) > 24:
        return f"{local[:1]}***@{domain[:1]}***"
    return f"{local[:1]}***@{name[:1]}***.{top}"


class NoRecipient(Exception):
    """Nobody to send the invoice to; the message says why (for the tenant's job result), `for_log` the
    same with the address redacted."""

    def __init__(self, problem: str, for_log: str | None = None) -> None:
        super().__init__(problem)
        self.for_log = for_log or problem


def recipient_problem(address: str | None, redact: bool = False) -> str | None:
    """Why no email can be sent to `address` (the order's customer email), or None when one can; with
    `redact`, naming the address redacted (for a log line)."""
    if address is None or not address.strip():
        return "the order has no customer email address"
    if len(address) > MAX_ADDRESS_LENGTH or not EMAIL_ADDRESS.match(address.strip()):
        shown = redacted_address(address) if redact else address[:80]
        return f"the customer email address {shown!r} is not valid"
    return None


def invoice_recipient(address: str | None) -> str:
    """The address to email the invoice to (the customer email on the invoice, trimmed); raises
    NoRecipient saying why there is none."""
    problem = recipient_problem(address)
    if problem is not None or address is None:
        raise NoRecipient(problem or "", recipient_problem(address, redact=True))
    return address.strip()
