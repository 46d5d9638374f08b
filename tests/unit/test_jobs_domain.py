"""The job's rules (invoicing/jobs.py): how results are recorded, counted, and when a job is DONE. Pure, no
store; the stores' own contract tests (tests/integration/test_store_contracts_*.py) check they keep them."""

from datetime import UTC, datetime

from infra.jobs import PAGE_SIZE, by_page, page_and_slot
from invoicing.jobs import Job, JobOrderResult, JobResultPage, ResultCounts, pending, places_for
from invoicing.statuses import JobStatus, JobType, OrderResultStatus

DONE = JobOrderResult("a", OrderResultStatus.SUCCESS, "Invoice N-1 created", "N-1")
FAILED = JobOrderResult("a", OrderResultStatus.FAILURE, "no lines")
B_FAILED = JobOrderResult("b", OrderResultStatus.FAILURE, "no lines")
AT = datetime(2026, 1, 2, tzinfo=UTC)


def new_job() -> Job:
    return Job("t", "j", JobType.MANUAL, JobStatus.IN_PROGRESS, ("a", "b"), None, 0, AT, AT)


def test_a_plan_fills_empty_slots_only() -> None:
    page = JobResultPage({"0": DONE})
    change = page.record([("0", pending("a")), ("1", pending("b"))])
    assert change.entries == {"1": pending("b")}
    assert change.finals == ResultCounts() and not change.repeated
    assert page.slots == {"0": DONE, "1": pending("b")}


def test_a_final_result_replaces_pending_and_is_counted_once() -> None:
    page = JobResultPage({"0": pending("a")})
    change = page.record([("0", DONE), ("0", DONE), ("1", B_FAILED)])
    assert change.entries == {"0": DONE, "1": B_FAILED}
    assert change.finals == ResultCounts(succeeded=1, failed=1)
    assert change.repeated  # the second "0" met the first


def test_a_final_result_is_never_replaced() -> None:
    page = JobResultPage({"0": DONE})
    change = page.record([("0", FAILED), ("0", pending("a"))])
    assert change.entries == {} and change.repeated and change.finals == ResultCounts()
    assert page.slots == {"0": DONE}


def test_a_redelivered_batch_changes_nothing() -> None:
    page = JobResultPage()
    batch = [("0", DONE), ("1", B_FAILED)]
    page.record(batch)
    again = page.record(batch)
    assert again.entries == {} and again.finals == ResultCounts() and again.repeated
    assert page.counts == ResultCounts(succeeded=1, failed=1)


def test_a_result_whose_slot_holds_another_order_is_set_aside() -> None:
    other = JobOrderResult("b", OrderResultStatus.SUCCESS, "done")
    change = JobResultPage({"0": pending("a")}).record([("0", other), ("0", pending("c"))])
    assert change.entries == {} and change.finals == ResultCounts()
    assert change.misplaced == [other, pending("c")]


def test_unplaced_results_go_where_their_order_is_or_after_the_last_place() -> None:
    placed = places_for({"a": 0, "b": 4}, [B_FAILED, pending("c"), pending("d"), pending("c")])
    assert placed == [(4, B_FAILED), (5, pending("c")), (6, pending("d")), (5, pending("c"))]
    assert places_for({}, [DONE]) == [(0, DONE)]


def test_counts_sum_the_final_results() -> None:
    counts = ResultCounts().counted(DONE).counted(FAILED).counted(pending("c")).counted(DONE)
    assert counts == ResultCounts(succeeded=2, failed=1) and counts.finished == 3
    assert counts + ResultCounts(1, 1) == ResultCounts(3, 2)


def test_a_job_is_done_exactly_when_every_planned_order_is_final() -> None:
    job = new_job()
    assert not job.counted(ResultCounts(succeeded=2), AT).is_done  # not planned yet: the total is unknown
    planned = job.planned(2, AT)
    assert not planned.is_done and not planned.is_complete
    one = planned.counted(ResultCounts(succeeded=1), AT)
    assert not one.is_done and one.finished_orders == 1
    both = one.counted(ResultCounts(succeeded=1, failed=1), AT)
    assert both.is_done and (both.finished_orders, both.succeeded_orders, both.failed_orders) == (2, 1, 1)
    # Results that came in before the plan: the plan finishes the job.
    assert job.counted(ResultCounts(failed=2), AT).planned(2, AT).is_done


def test_a_done_job_stays_done() -> None:
    done = new_job().planned(0, AT)
    assert done.is_done and not done.is_complete  # an empty plan is done at once; nothing more to finish
    assert done.finished_if_complete() == done


def test_places_map_to_pages_and_slots() -> None:
    assert page_and_slot(0) == (0, "0")
    assert page_and_slot(PAGE_SIZE - 1) == (0, str(PAGE_SIZE - 1))
    assert page_and_slot(PAGE_SIZE) == (1, "0")
    grouped = by_page([(1, DONE), (PAGE_SIZE + 2, FAILED)])
    assert grouped == {0: [("1", DONE)], 1: [("2", FAILED)]}
