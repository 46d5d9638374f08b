"""How results merge into a job's page (infra/jobs.py merge_entries): pure, no store."""

from infra.jobs import PAGE_SIZE, by_page, merge_entries, page_and_slot, pending_entry

DONE = {"orderId": "a", "status": "SUCCESS", "message": "Invoice N-1 created", "invoiceNumber": "N-1"}
FAILED = {"orderId": "a", "status": "FAILURE", "message": "no lines"}


def test_a_plan_fills_empty_slots_only() -> None:
    change = merge_entries({"0": DONE}, [("0", pending_entry("a")), ("1", pending_entry("b"))])
    assert change.entries == {"1": pending_entry("b")}
    assert not change.finals and not change.repeated


def test_a_final_result_replaces_pending_and_is_counted_once() -> None:
    change = merge_entries({"0": pending_entry("a")}, [("0", DONE), ("0", DONE), ("1", FAILED)])
    assert change.entries == {"0": DONE, "1": FAILED}
    assert dict(change.finals) == {"SUCCESS": 1, "FAILURE": 1}
    assert change.repeated  # the second "0" met the first


def test_a_final_result_is_never_replaced() -> None:
    change = merge_entries({"0": DONE}, [("0", FAILED)])
    assert change.entries == {} and change.repeated and not change.finals


def test_places_map_to_pages_and_slots() -> None:
    assert page_and_slot(0) == (0, "0")
    assert page_and_slot(PAGE_SIZE - 1) == (0, str(PAGE_SIZE - 1))
    assert page_and_slot(PAGE_SIZE) == (1, "0")
    grouped = by_page([(1, DONE), (PAGE_SIZE + 2, FAILED)])
    assert grouped == {0: [("1", DONE)], 1: [("2", FAILED)]}


def test_an_entry_whose_slot_holds_another_order_is_set_aside() -> None:
    other = {"orderId": "b", "status": "SUCCESS", "message": "done"}
    change = merge_entries({"0": pending_entry("a")}, [("0", other), ("0", pending_entry("c"))])
    assert change.entries == {} and not change.finals
    assert change.misplaced == [other, pending_entry("c")]
