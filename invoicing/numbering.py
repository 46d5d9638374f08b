"""Invoice number sequences: the tenant's format and the rules of the counter."""

from dataclasses import dataclass

NUMBER_PLACEHOLDER = "__num__"


class SequenceExhausted(Exception):
    """The next number would pass the sequence's maxValue; numbers are never wrapped or reused."""


@dataclass(frozen=True)
class SequenceSchema:
    """Same fields as the Emporix sequence schema: preText "INV__num__" with 4 digits from 1000 gives INV1000."""

    pre_text: str = "INV-__num__"
    number_of_digits: int = 6
    start_value: int = 1
    max_value: int = 999_999_999

    def __post_init__(self) -> None:
        if NUMBER_PLACEHOLDER not in self.pre_text:
            raise ValueError(f"preText must contain the placeholder {NUMBER_PLACEHOLDER}")
        if self.start_value < 0 or self.max_value < self.start_value:
            raise ValueError("startValue must be >= 0 and <= maxValue")

    def format(self, value: int) -> str:
        return self.pre_text.replace(NUMBER_PLACEHOLDER, str(value).zfill(self.number_of_digits))

    def next_value(self, last_used: int | None) -> int:
        """The value after `last_used` (None: nothing used yet); raises SequenceExhausted past maxValue."""
        candidate = self.start_value if last_used is None else max(last_used + 1, self.start_value)
        if candidate > self.max_value:
            raise SequenceExhausted(f"invoice number sequence exhausted (maxValue {self.max_value})")
        return candidate


DEFAULT_SEQUENCE = SequenceSchema()
