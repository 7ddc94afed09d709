"""bench.native_profile: perf samples charged to the innermost compiled (mypyc) function."""

from __future__ import annotations

from bench.native_profile import by_compiled_function, by_object, parse_samples, readable

# Three samples as `perf script -F ip,sym,dso` prints them (leaf first, blank line between).
PERF_SCRIPT = """\
\t  7f01 _PyObject_Malloc (/usr/lib/libpython3.11.so.1.0)
\t  7f02 pymalloc_alloc (inlined)
\t  7f03 CPyDef_ca277___Ack277Writer____claim_ack (/x/e4d6__mypyc.cpython-311.so)
\t  7f04 CPyDef_filter___FilterRun___run (/x/e4d6__mypyc.cpython-311.so)

\t  7f05 pymalloc_free (inlined)
\t  7f06 _PyObject_Free (/usr/lib/libpython3.11.so.1.0)
\t  7f07 CPyDef_filter___decision_json (/x/e4d6__mypyc.cpython-311.so)

\t  7f08 PyImport_ImportModuleLevelObject (/usr/lib/libpython3.11.so.1.0)
\t  7f09 _start (/usr/bin/python3.11)
"""


def test_samples_are_charged_to_the_innermost_compiled_function() -> None:
    samples = parse_samples(["", *PERF_SCRIPT.splitlines()])
    assert len(samples) == 3
    owners = by_compiled_function(samples)
    assert owners == {
        "CPyDef_ca277___Ack277Writer____claim_ack": 1,  # not FilterRun.run further out
        "CPyDef_filter___decision_json": 1,
        "(outside)": 1,
    }


def test_cycles_go_to_the_object_of_the_first_frame_that_names_one() -> None:
    objects = by_object(parse_samples(PERF_SCRIPT.splitlines()))
    # the second sample's leaf is inlined: its cycles are libpython's, not "inlined"'s
    assert objects == {"libpython3.11.so.1.0": 3}


def test_readable_names() -> None:
    assert readable("CPyDef_ca277___Ack277Writer____claim_ack") == "ca277.Ack277Writer._claim_ack"
    assert readable("CPyDef_filter___decision_json") == "filter.decision_json"
    assert readable("_PyObject_Malloc") == "_PyObject_Malloc"
