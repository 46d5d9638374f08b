"""The states the domain's entities are in, as they are stored and shown. They are the domain's: the
stores keep these values and `schemas/api.py` re-exports them for the wire models, so the API cannot
rename a stored value by renaming one of its own. The docstrings are the API's descriptions."""

from enum import StrEnum


class JobType(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class JobStatus(StrEnum):
    DONE = "DONE"
    IN_PROGRESS = "IN_PROGRESS"


class OrderResultStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    PENDING = "PENDING"


class JobTrigger(StrEnum):
    """Extension: who started a job: an API call, or the schedule of AUTOMATIC jobs."""

    API = "api"
    SCHEDULE = "schedule"


class EmailStatus(StrEnum):
    """Extension: the state of an invoice's email to the customer."""

    SENT = "SENT"
    PENDING = "PENDING"  # a send failed for now; the email agent retries it
    FAILED = "FAILED"  # the mail server refused it for good
    NOT_SENT = "NOT_SENT"  # not sent (yet): no address, or the invoice is new


class CreditNoteStatus(StrEnum):
    """Extension: where a credit-note request stands."""

    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"  # the credit note is numbered, rendered and stored
    FAILED = "FAILED"  # refused (say, more than is left to credit); the message says why


class RefundStatus(StrEnum):
    NOT_NEEDED = "NOT_NEEDED"  # nothing was captured for the order: the credit reduces what is due
    PENDING = "PENDING"  # the gateway has not confirmed it yet; the refund agent retries it
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"  # the gateway refused it for good (its reason is kept); an operator must act
