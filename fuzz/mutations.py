"""Mutations of X12 files, driven by a ``random.Random`` so hypothesis (``st.randoms``) can shrink
them and the long fuzz runner can drive them with a plain seeded generator.

Each mutation returns new bytes; none of them needs the input to be valid X12.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

DELIMS = b"*~:^>|\n\r_!`+ "
TAGS = [
    b"ISA",
    b"IEA",
    b"GS",
    b"GE",
    b"ST",
    b"SE",
    b"BHT",
    b"HL",
    b"CLM",
    b"LX",
    b"SV1",
    b"DTP",
    b"NM1",
    b"REF",
    b"HI",
    b"SBR",
    b"PRV",
    b"N3",
    b"N4",
    b"DMG",
    b"TA1",
    b"LIN",
    b"SVD",
    b"CTP",
    b"AMT",
    b"ZZZ",
    b"",
    b"\x00\x00",
]
HUGE_NUMBERS = [
    b"99999999999999999999999999",
    b"-1",
    b"0",
    b"1E+999999",
    b"NaN",
    b"Infinity",
    b"1e-999999",
    b"00000000000000000000000001",
    b"9" * 400,
    b"1.2.3",
    b"\xff\xfe",
    b"",
]


def delimiters(data: bytes) -> tuple[bytes, bytes, bytes]:
    """Element, component and segment delimiters of the first ISA (standard ones if unreadable)."""
    start = data.find(b"ISA")
    if start >= 0 and len(data) >= start + 106:
        header = data[start : start + 106]
        return header[3:4], header[104:105], header[105:106]
    return b"*", b":", b"~"


def split_segments(data: bytes) -> tuple[list[bytes], bytes]:
    _, _, terminator = delimiters(data)
    return data.split(terminator), terminator


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def flip_delimiter(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    new = rng.choice([*DELIMS, *delimiters(data)[0], *delimiters(data)[2]])
    return data[:at] + bytes([new if isinstance(new, int) else new[0]]) + data[at + 1 :]


def swap_delimiters(rng: random.Random, data: bytes) -> bytes:
    """Replace every occurrence of one delimiter by another byte (possibly a used one)."""
    old = rng.choice(delimiters(data))
    new = bytes([rng.choice(DELIMS)])
    return data.replace(old, new) if old else data


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: _pos(rng, data)]


def delete_range(rng: random.Random, data: bytes) -> bytes:
    at = _pos(rng, data)
    return data[:at] + data[at + rng.randrange(1, 64) :]


def delete_segment(rng: random.Random, data: bytes) -> bytes:
    segs, term = split_segments(data)
    if len(segs) > 1:
        del segs[rng.randrange(len(segs))]
    return term.join(segs)


def duplicate_segment(rng: random.Random, data: bytes) -> bytes:
    segs, term = split_segments(data)
    if segs:
        i = rng.randrange(len(segs))
        segs[rng.randrange(len(segs) + 1) : 0] = [segs[i]] * rng.choice([1, 1, 2, 50])
    return term.join(segs)


def move_segment(rng: random.Random, data: bytes) -> bytes:
    segs, term = split_segments(data)
    if len(segs) > 1:
        seg = segs.pop(rng.randrange(len(segs)))
        segs.insert(rng.randrange(len(segs) + 1), seg)
    return term.join(segs)


def retag_segment(rng: random.Random, data: bytes) -> bytes:
    segs, term = split_segments(data)
    element = delimiters(data)[0]
    if segs:
        i = rng.randrange(len(segs))
        head, sep, rest = segs[i].lstrip().partition(element)
        segs[i] = rng.choice(TAGS) + sep + rest
    return term.join(segs)


def set_element(rng: random.Random, data: bytes) -> bytes:
    """Put a huge, negative, empty or non-numeric value into one element of one segment."""
    segs, term = split_segments(data)
    element = delimiters(data)[0]
    if not segs:
        return data
    i = rng.randrange(len(segs))
    parts = segs[i].split(element)
    j = rng.randrange(len(parts))
    parts[j] = rng.choice(HUGE_NUMBERS) if rng.random() < 0.8 else parts[j] * 3
    segs[i] = element.join(parts)
    return term.join(segs)


def giant_element(rng: random.Random, data: bytes) -> bytes:
    at = _pos(rng, data)
    size = rng.choice([1_000, 70_000, 300_000])
    return data[:at] + bytes([rng.choice(b"A9 *:")]) * size + data[at:]


def binary_garbage(rng: random.Random, data: bytes) -> bytes:
    at = _pos(rng, data)
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    return data[:at] + junk + data[at:]


def deep_hl_chain(rng: random.Random, data: bytes) -> bytes:
    """Insert a long chain of HLs, each the child of the previous one, before a CLM."""
    element, _, term = delimiters(data)
    depth = rng.choice([5, 100, 3000])
    level = rng.choice([b"22", b"23", b"20", b"99"])
    chain = term.join(
        b"HL"
        + element
        + b"%d" % (900000 + n)
        + element
        + (b"%d" % (899999 + n) if n else b"1")
        + element
        + level
        + element
        + b"1"
        for n in range(depth)
    )
    at = data.find(b"CLM" + element)
    at = at if at >= 0 else _pos(rng, data)
    return data[:at] + chain + term + data[at:]


def many_lines(rng: random.Random, data: bytes) -> bytes:
    """Repeat a claim's LX..DTP block many times (beyond the 50 lines a 2400 loop allows)."""
    element, _, term = delimiters(data)
    start = data.find(term + b"LX" + element)
    if start < 0:
        start = data.find(b"LX" + element)
    if start < 0:
        return data
    end = data.find(term, data.find(b"SV1", start) + 1)
    if end < 0:
        return data
    block = data[start:end]
    return data[:start] + block * rng.choice([2, 51, 400]) + data[start:]


def reencode(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return data.decode("latin-1").encode("utf-16-le")
    if choice == 1:
        return data.decode("latin-1").encode("utf-16")
    if choice == 2:
        return b"\xef\xbb\xbf" + data
    if choice == 3:
        return data.replace(b" ", "\u00a0".encode())
    return data.decode("latin-1").encode("utf-32")


def no_terminator(rng: random.Random, data: bytes) -> bytes:
    """Remove every segment terminator after the ISA: a file that never ends a segment."""
    _, _, term = delimiters(data)
    start = data.find(b"ISA")
    cut = max(start, 0) + 106
    return data[:cut] + data[cut:].replace(term, b"")


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    flip_delimiter,
    swap_delimiters,
    truncate,
    delete_range,
    delete_segment,
    duplicate_segment,
    move_segment,
    retag_segment,
    set_element,
    set_element,
    giant_element,
    binary_garbage,
    deep_hl_chain,
    many_lines,
    reencode,
    no_terminator,
]


def mutate(rng: random.Random, data: bytes, rounds: int | None = None) -> bytes:
    for _ in range(rounds if rounds is not None else rng.randint(1, 4)):
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def seed_files(corpus: Path, fixtures: Path, *, max_bytes: int = 200_000) -> list[Path]:
    """Corpus and fixture files small enough to mutate quickly."""
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file() and p.suffix != ".tsv"]
    files += sorted(fixtures.glob("*.837"))
    return [p for p in files if p.stat().st_size <= max_bytes]


def generated(seed: int, claims: int = 12, *, newlines: bool = False) -> bytes:
    """A small synthetic 837P from the bench generator (several ST sets, lines, NM1*82 ...)."""
    import io

    from bench.generate import Generator

    out = io.BytesIO()
    Generator(seed, max_claims_per_st=5, groups=4, newlines=newlines).write(out, claims, 1)
    return out.getvalue()
