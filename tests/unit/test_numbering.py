import pytest

from invoicing.numbering import SequenceExhausted, SequenceSchema


def test_format_pads_digits_into_placeholder() -> None:
    schema = SequenceSchema(pre_text="INV__num__", number_of_digits=4, start_value=1000)
    assert schema.format(schema.next_value(None)) == "INV1000"
    assert schema.format(schema.next_value(1000)) == "INV1001"


def test_start_value_raised_later_jumps_forward() -> None:
    assert SequenceSchema(start_value=500).next_value(10) == 500


def test_exhausted_never_wraps() -> None:
    schema = SequenceSchema(start_value=1, max_value=2)
    assert schema.next_value(1) == 2
    with pytest.raises(SequenceExhausted, match="exhausted"):
        schema.next_value(2)


def test_placeholder_required() -> None:
    with pytest.raises(ValueError, match="__num__"):
        SequenceSchema(pre_text="INV-")
