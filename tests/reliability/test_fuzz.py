"""Bounded fuzzing in the normal suite: mutated project inputs, corpus files and generated claims.

The property (``fuzz.oracle.check``): edi-gate refuses the input with X12Error, or processes it
with every claim accounted for, the accepted ones copied byte for byte into a filtered 837 that
is itself sound X12, and the 277CA acknowledging exactly the decided claims. Runs are
derandomized so CI is stable; ``python -m fuzz.run --minutes N`` explores further.

Seeds: the fixtures, the structural edge cases of ``tests/data/x12.py`` and generated claims; the
public corpus's files seed a separate ``interop`` test.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.mutations import MUTATIONS, generated, mutate, seed_files
from fuzz.oracle import check, real_engine
from tests.data.x12 import CASES
from tests.helpers import CORPUS, FIXTURES

MAX_SEED_BYTES = 60_000
SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.837"))]
SEEDS += [data for case in CASES.values() if len(data := case.build()) <= MAX_SEED_BYTES]
SEEDS += [generated(n, claims=8, newlines=bool(n % 2)) for n in range(3)]
CORPUS_SEEDS = [
    p.read_bytes()
    for p in (seed_files(CORPUS, FIXTURES, max_bytes=MAX_SEED_BYTES) if CORPUS.is_dir() else [])
    if CORPUS in p.parents
]
CHUNKS = st.sampled_from([7, 106, 4096, 1 << 16])

FUZZ = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _chunk(data: bytes, chunk: int) -> int:
    return max(chunk, 4096) if len(data) > 20_000 else chunk


@FUZZ
@given(
    seed=st.integers(0, len(SEEDS) - 1),
    rng=st.randoms(use_true_random=False),
    scope=st.sampled_from(["claim", "line"]),
    chunk=CHUNKS,
)
def test_mutated_inputs_are_processed_or_refused(seed, rng, scope, chunk):
    data = mutate(rng, SEEDS[seed])
    check(data, scope=scope, chunk_size=_chunk(data, chunk))


@pytest.mark.interop
@settings(FUZZ, max_examples=800)
@given(
    seed=st.integers(0, max(len(CORPUS_SEEDS) - 1, 0)),
    rng=st.randoms(use_true_random=False),
    scope=st.sampled_from(["claim", "line"]),
    chunk=CHUNKS,
)
def test_mutated_corpus_files_are_processed_or_refused(seed, rng, scope, chunk):
    data = mutate(rng, CORPUS_SEEDS[seed])
    check(data, scope=scope, chunk_size=_chunk(data, chunk))


@settings(FUZZ, max_examples=600)
@given(
    seed=st.integers(0, len(SEEDS) - 1),
    rng=st.randoms(use_true_random=False),
    mutation=st.sampled_from(MUTATIONS),
)
def test_each_mutation_with_the_real_rule_engine(seed, rng, mutation):
    data = mutation(rng, SEEDS[seed])
    check(data, real_engine(), scope=rng.choice(["claim", "line"]))


# A segment soup: a valid envelope around random segments from the 837P vocabulary, with
# random, missing, huge or binary elements. Explores the loop state machine directly.
TAGS = [
    "HL",
    "CLM",
    "LX",
    "SV1",
    "DTP",
    "NM1",
    "REF",
    "PRV",
    "SBR",
    "HI",
    "N3",
    "LIN",
    "SVD",
    "CTP",
    "AMT",
    "ZZ",
    "ST",
    "SE",
    "GE",
    "IEA",
    "GS",
    "BHT",
    "PER",
]
ELEMENT = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "2",
            "20",
            "22",
            "23",
            "82",
            "85",
            "IL",
            "QC",
            "6R",
            "G1",
            "472",
            "D8",
            "RD8",
            "20250310",
            "20250310-20250311",
            "HC:70553:26",
            "HC",
            "XX",
            "1234567893",
            "NaN",
            "-5",
            "1E+99",
            "11:B:1",
            "99999999999999999999",
        ]
    ),
    st.text("0123456789ABC:.-", max_size=12),
    st.binary(max_size=6).map(lambda b: b.decode("latin-1")),
)
SEGMENT = st.builds(
    lambda tag, elements: "*".join([tag, *elements]),
    st.sampled_from(TAGS),
    st.lists(ELEMENT, max_size=9),
)
ISA = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *261124*1200*^*"
    "00501*000000001*0*T*:~GS*HC*SUB*REC*20261124*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~"
    "BHT*0019*00*B1*20261124*1200*CH~"
)


@settings(FUZZ, max_examples=1000)
@given(segments=st.lists(SEGMENT, max_size=40), scope=st.sampled_from(["claim", "line"]))
def test_segment_soup(segments, scope):
    body = "".join(s.replace("~", "") + "~" for s in segments)
    trailer = f"SE*{len(segments) + 3}*0001~GE*1*1~IEA*1*000000001~"
    data = (ISA + body + trailer).encode("latin-1")
    for engine in (None, real_engine()):
        check(data, engine, scope=scope)
