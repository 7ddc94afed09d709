"""x12out fast paths give exactly what the general code gives."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from edi_gate.acks.x12out import _NOT_ALLOWED, _SPACES, amount, clean, is_clean, segment_text


def _regex_clean(text: str) -> str:
    """clean() without its fast path: the two regex passes and the strip."""
    return _SPACES.sub(" ", _NOT_ALLOWED.sub(" ", text)).strip()


EDGES = [
    "", " ", "  ", "A", "SMITH", "O'BRIEN", "ST. JOHN", "A  B", " A", "A ", "A\tB", "A\nB",
    "A*B", "A:B", "A~B", "A^B", "ÉCOLE", "ＡＢＣ", "١٢٣", "²", "A\x1cB", "0001-1",
    "PRIV001 LINE 1 - 71046-TC: TC and 26 on one line",
]  # fmt: skip


@pytest.mark.parametrize("text", EDGES)
def test_is_clean_edges(text):
    assert is_clean(text) == (_regex_clean(text) == text)
    assert clean(text) == _regex_clean(text)


def test_is_clean_agrees_with_regex_on_random_text():
    rng = random.Random(7)
    alphabet = "AZaz09 *:~^!\"&'()+,-./;?=%@[]_{}\\|<>#$\t\n\r\x00\x1fé€ＡＢ²٣ "
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert is_clean(text) == (_regex_clean(text) == text), repr(text)
        assert clean(text, 8, upper=True) == _regex_clean(text).upper()[:8].rstrip(), repr(text)


@pytest.mark.parametrize(
    "value", ["150.00", "-0.00", "1E+2", "0.10", "12.5", "-3", "0", "1.50E-3", "NaN"]
)
def test_amount_of_decimal_is_amount_of_its_text(value):
    assert amount(Decimal(value)) == amount(value)


def test_segment_text_drops_trailing_empties():
    assert segment_text("STC", (("A2", "20", ""), "20260101", "", "")) == "STC*A2:20*20260101~\n"
    assert segment_text("NM1", ("QC", "", "X")) == "NM1*QC**X~\n"
