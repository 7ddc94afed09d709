"""Memo tables for values formatted per claim: same answers as computing, bounded in size."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from edi_gate.acks.x12out import amount
from edi_gate.memo import Memo
from edi_gate.x12.writer import format_amount


def test_remembers_up_to_the_limit_then_computes() -> None:
    calls: list[int] = []

    def compute(key: int) -> str:
        calls.append(key)
        return str(key * 2)

    memo = Memo(compute, limit=3)
    assert [memo.get(k) for k in (1, 2, 1, 3, 4, 4, 1)] == ["2", "4", "2", "6", "8", "8", "2"]
    assert calls == [1, 2, 3, 4, 4]  # 1, 2, 3 remembered; 4 is past the limit
    assert len(memo._values) == 3


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
    )
)
def test_amount_memo_agrees_with_formatting(value: Decimal) -> None:
    """Equal Decimals share an entry (150 == 150.00): the text must not depend on which came
    first, so both orders are checked against the formatter."""
    for variant in (value, value.quantize(Decimal("0.0001")), value.normalize()):
        assert amount(variant) == format_amount(variant)
        assert amount(str(variant)) == format_amount(variant)


def test_amount_of_missing_values_is_zero() -> None:
    assert amount(None) == amount("") == "0"
    assert amount(Decimal("-0.00")) == "0"
