"""A job and its orders' results: the rules the stores keep, stated once (cosmicpython's domain model).

- An order's result is PENDING until it is final (SUCCESS or FAILURE); a final result is never replaced,
  so a redelivered result or plan changes nothing.
- The job counts its final results (succeeded, failed, and finished: their sum).
- The job is DONE once it is planned (its total known) and every order's result is final.

The stores only load and store these: the MongoDB adapter (infra/jobs.py) keeps a job's results in pages
of slots and writes what `JobResultPage.record` decides with a version-conditional write; the fakes of
the tests keep them in a dict.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from invoicing.statuses import JobStatus, JobTrigger, JobType, OrderResultStatus


@dataclass(frozen=True)
class JobOrderResult:
    """One order's result in a job, as GET shows it."""

    order_id: str
    status: OrderResultStatus
    message: str | None = None
    invoice_number: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status is not OrderResultStatus.PENDING


def pending(order_id: str) -> JobOrderResult:
    """The result of a planned order not invoiced yet."""
    return JobOrderResult(order_id, OrderResultStatus.PENDING)


@dataclass(frozen=True)
class ResultCounts:
    """Final results by status; `finished` is their sum."""

    succeeded: int = 0
    failed: int = 0

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    def __add__(self, other: "ResultCounts") -> "ResultCounts":
        return ResultCounts(self.succeeded + other.succeeded, self.failed + other.failed)

    def counted(self, result: JobOrderResult) -> "ResultCounts":
        """These counts with one more final `result` (a PENDING one counts nowhere)."""
        if result.status is OrderResultStatus.SUCCESS:
            return replace(self, succeeded=self.succeeded + 1)
        if result.status is OrderResultStatus.FAILURE:
            return replace(self, failed=self.failed + 1)
        return self


@dataclass
class PageChange:
    """What recording results into a page changed: the slots set, the counts of the results that became
    final, whether a result met a final one already there (a redelivery), and the results whose slot
    holds another order (placed by a plan made again from a changed order list)."""

    entries: dict[str, JobOrderResult] = field(default_factory=dict)
    finals: ResultCounts = ResultCounts()
    repeated: bool = False
    misplaced: list[JobOrderResult] = field(default_factory=list)

    def __iadd__(self, other: "PageChange") -> "PageChange":
        """The counts of changes of several pages together (`entries` stays this page's own)."""
        self.finals += other.finals
        self.repeated = self.repeated or other.repeated
        self.misplaced += other.misplaced
        return self


@dataclass
class JobResultPage:
    """Results of a job by slot (a string: the MongoDB adapter's field name). A store may load only the
    slots a batch touches: `record` reads no other."""

    slots: dict[str, JobOrderResult] = field(default_factory=dict)

    def record(self, placed: Iterable[tuple[str, JobOrderResult]]) -> PageChange:
        """Record results at their slots and say what changed: a result fills an empty slot, a final
        result also replaces a PENDING one, and nothing replaces a final result."""
        change = PageChange()
        for slot, result in placed:
            current = self.slots.get(slot)
            if current is not None and current.order_id != result.order_id:
                change.misplaced.append(result)
            elif current is None or (result.is_final and not current.is_final):
                self.slots[slot] = change.entries[slot] = result
                change.finals = change.finals.counted(result)
            elif result.is_final and current.is_final:
                change.repeated = True
        return change

    @property
    def counts(self) -> ResultCounts:
        counts = ResultCounts()
        for result in self.slots.values():
            counts = counts.counted(result)
        return counts


def places_for(positions: Mapping[str, int], unplaced: Sequence[JobOrderResult]) -> list[tuple[int, JobOrderResult]]:
    """Where results without a place (from a request written before places were carried), or whose place
    holds another order, go: where their order already is, or else after the job's last place, so every
    order shows once and nothing is lost. `positions`: where each order of the job is."""
    known = dict(positions)
    after_last = max(known.values(), default=-1) + 1
    for result in unplaced:
        if result.order_id not in known:
            known[result.order_id], after_last = after_last, after_last + 1
    return [(known[result.order_id], result) for result in unplaced]


@dataclass(frozen=True)
class Job:
    tenant: str
    job_id: str
    job_type: JobType
    status: JobStatus
    requested_order_ids: Sequence[str]
    total_orders: int | None  # None until the job is planned
    finished_orders: int
    created_at: datetime
    updated_at: datetime
    succeeded_orders: int = 0
    failed_orders: int = 0
    trigger: JobTrigger = JobTrigger.API

    @property
    def counts(self) -> ResultCounts:
        return ResultCounts(self.succeeded_orders, self.failed_orders)

    @property
    def is_done(self) -> bool:
        return self.status is JobStatus.DONE

    @property
    def is_complete(self) -> bool:
        """In progress, planned, and every order's result final: the job is to be DONE."""
        return (
            self.status is JobStatus.IN_PROGRESS
            and self.total_orders is not None
            and self.finished_orders >= self.total_orders
        )

    def finished_if_complete(self) -> "Job":
        return replace(self, status=JobStatus.DONE) if self.is_complete else self

    def planned(self, total: int, at: datetime) -> "Job":
        """The job once its plan counted `total` orders (DONE if their results are all in)."""
        return replace(self, total_orders=total, updated_at=at).finished_if_complete()

    def counted(self, counts: ResultCounts, at: datetime) -> "Job":
        """The job with the counts of its final results (DONE once they cover every planned order)."""
        moved = replace(
            self,
            finished_orders=counts.finished,
            succeeded_orders=counts.succeeded,
            failed_orders=counts.failed,
            updated_at=at,
        )
        return moved.finished_if_complete()
