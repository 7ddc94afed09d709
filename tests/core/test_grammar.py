"""The 837P grammar table (edi_gate.x12.grammar): well defined, and true to pyx12's X222A1 map.

As stupidedi tests its grammars: every loop a row names exists, every row's key is unique, every
HL level has a loop and a parent chain to the root. pyx12's map is the structural oracle: the
known segment ids are its segment ids, and each row's segment and qualifier are ones the map
allows in the loop the row says the segment belongs to.
"""

from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET
from collections import Counter
from functools import cache

import pytest

from edi_gate.x12 import grammar
from edi_gate.x12.grammar import (
    ANY,
    CLAIM_GRAMMAR,
    CLAIM_LOOP,
    CLAIM_LOOPS,
    CLAIM_READ_TAGS,
    HEADER_NAMES,
    HL_LEVELS,
    KNOWN_837P_TAGS,
    LEVEL_NAMES,
    LINE_LOOPS,
    LOOP_2300,
    LOOP_2320_IN_LINE,
    STAY,
    STRUCTURAL_TAGS,
    hl_level,
    name_loop,
)

# Envelope segments pyx12's map holds around the transaction set: outside the set, so not
# among the ids an 837P set may contain.
ENVELOPE_SEGMENTS = {"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"}
# Loop families the reader treats alike (2310A/C-F, 2330A-G, 2420B-H): a row's loop id may be
# the family's common prefix.
FAMILIES = {"2310", "2330", "2420"}


@cache
def pyx12_map() -> ET.Element:
    path = importlib.resources.files("pyx12") / "map" / "837.5010.X222.A1.xml"
    return ET.fromstring(path.read_bytes())


def map_loops(loop_id: str) -> list[ET.Element]:
    """The map's loops with this id (2300 appears under 2000B and under 2000C), or the members
    of a family."""
    loops = [loop for loop in pyx12_map().iter("loop") if loop.get("xid")]
    if loop_id in FAMILIES:
        return [loop for loop in loops if loop.get("xid", "")[:-1] == loop_id]
    return [loop for loop in loops if loop.get("xid") == loop_id]


def own_segments(loop: ET.Element) -> list[ET.Element]:
    return loop.findall("segment")


def qualifiers(segment: ET.Element) -> set[str]:
    """The codes the map allows in the segment's first element (empty: any value)."""
    first = segment.find("element")
    assert first is not None
    return {code.text or "" for code in first.iter("code")}


def allows(loop_id: str, tag: bytes, qualifier: bytes) -> bool:
    """Some loop of this id has the segment with the qualifier among its first element's codes."""
    for loop in map_loops(loop_id):
        for segment in own_segments(loop):
            if segment.get("xid") == tag.decode() and (
                not qualifier
                or not qualifiers(segment)
                or qualifier.decode() in qualifiers(segment)
            ):
                return True
    return False


def test_known_tags_are_the_segment_ids_of_pyx12s_map():
    in_map = {segment.get("xid") for segment in pyx12_map().iter("segment")}
    assert {tag.decode() for tag in KNOWN_837P_TAGS} == in_map - ENVELOPE_SEGMENTS
    assert in_map >= ENVELOPE_SEGMENTS  # the exception is explained: they are the envelope


def test_every_loop_id_is_a_loop_of_the_map():
    named = [value for name, value in vars(grammar).items() if name.startswith("LOOP_")]
    assert len(named) == len(set(named)), "a loop id named twice"
    for loop_id in named:
        if loop_id != LOOP_2320_IN_LINE:
            assert map_loops(loop_id), loop_id


def test_every_rows_loops_and_next_loop_exist():
    loops = set(CLAIM_LOOPS) | set(LINE_LOOPS)
    assert len(loops) == len(CLAIM_LOOPS) + len(LINE_LOOPS)
    for sources, _tag, _qualifier, target, _action in CLAIM_GRAMMAR:
        assert set(sources) <= loops
        assert target == STAY or target in loops
    assert set(CLAIM_LOOP) == loops


def test_no_loop_segment_qualifier_key_twice():
    keys = Counter(
        (source, tag, qualifier)
        for sources, tag, qualifier, _target, _action in CLAIM_GRAMMAR
        for source in sources
    )
    assert [key for key, count in keys.items() if count > 1] == []


def test_every_claim_loop_is_reached_from_2300():
    reached, todo = {LOOP_2300}, [CLAIM_LOOP[LOOP_2300]]
    while todo:
        loop = todo.pop()
        for rule in loop.rules.values():
            steps = [*rule.qualified, rule.otherwise]
            for step in steps:
                if step is not None and step.loop.id not in reached:
                    reached.add(step.loop.id)
                    todo.append(step.loop)
    assert reached == set(CLAIM_LOOP)


def test_line_loops_are_entered_only_from_a_line_or_by_lx():
    """Line actions assume an open line: a claim-level loop reaches a line loop only through LX."""
    for sources, tag, _qualifier, target, _action in CLAIM_GRAMMAR:
        if target in LINE_LOOPS and any(source in CLAIM_LOOPS for source in sources):
            assert tag == b"LX"


@pytest.mark.parametrize("row", CLAIM_GRAMMAR, ids=lambda row: f"{row[1].decode()}{row[2]!r}")
def test_each_rows_segment_and_qualifier_belong_to_its_loop_in_the_map(row):
    """A row opening a loop names that loop's segment; a row staying names its own loop's."""
    sources, tag, qualifier, target, _action = row
    homes = sources if target == STAY else (target,)
    for home in homes:
        home = "2320" if home == LOOP_2320_IN_LINE else home
        assert allows(home, tag, qualifier), (home, tag, qualifier)


def test_hl_levels_chain_to_the_root_and_nest_as_in_the_map():
    roots = [level for level in HL_LEVELS if not level.parent]
    assert len(roots) == 1
    assert len({level.code for level in HL_LEVELS}) == len(HL_LEVELS)
    for level in HL_LEVELS:
        assert hl_level(level.code) is level and map_loops(level.loop)
        seen = {level.code}
        while level.parent:
            parent = hl_level(level.parent)  # every parent is a level
            assert parent is not None
            (child_loop,) = map_loops(level.loop)
            assert any(child_loop in list(loop.iter("loop")) for loop in map_loops(parent.loop))
            assert parent.code not in seen
            seen.add(parent.code)
            level = parent


@pytest.mark.parametrize("names", [HEADER_NAMES, LEVEL_NAMES])
def test_name_loops_qualifiers_are_the_maps(names):
    assert len(dict(names)) == len(names)  # no entity code twice
    for entity, loop_id in names:
        assert name_loop(names, entity) == loop_id
        assert allows(loop_id, b"NM1", entity), (loop_id, entity)
    assert name_loop(names, b"ZZ") is None


def test_claim_read_tags_are_the_grammars_segments():
    assert b" ".join(sorted(CLAIM_READ_TAGS)) == b"CTP DTP LIN LX NM1 PRV REF SBR SV1 SVD"
    assert not CLAIM_READ_TAGS & STRUCTURAL_TAGS
    assert CLAIM_READ_TAGS <= KNOWN_837P_TAGS


def test_a_qualifier_row_falls_back_to_the_any_row():
    nm1 = CLAIM_LOOP[LOOP_2300].rules[b"NM1"]
    assert nm1.transition(b"82").loop.id == "2310B"
    assert nm1.transition(b"DN").loop.id == "2310"
    ref = CLAIM_LOOP[LOOP_2300].rules[b"REF"]
    assert ref.transition(b"F8") is None and ref.transition(ANY) is None
