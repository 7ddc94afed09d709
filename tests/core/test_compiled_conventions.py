"""The conventions the compiled build asks of hot-path code (docs/compiled-build.md), checked.

A dataclass that writes its ``__init__`` out (``init=False``, so mypyc compiles it) must still take
exactly its public fields, in order, and set its private ones: a field added to the class but not
to the written ``__init__`` would be left unset (AttributeError at first use), one dropped would be
silently ignored. Read from the sources (ast), so the check is the same for both builds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pytest

from tests.core.test_compiled import hot_path_modules
from tests.helpers import REPO


@dataclass
class WrittenInit:
    where: str
    fields: list[str]
    params: list[str]
    assigned: set[str]


def declares_init_false(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "dataclass":
            for keyword in decorator.keywords:
                if keyword.arg == "init" and getattr(keyword.value, "value", True) is False:
                    return True
    return False


def written_init(node: ast.ClassDef, where: str) -> WrittenInit:
    fields = [
        item.target.id
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    ]
    init = next(
        (
            item
            for item in node.body
            if isinstance(item, ast.FunctionDef) and item.name == "__init__"
        ),
        None,
    )
    assert init is not None, f"{where}: init=False but no __init__ written"
    params = [arg.arg for arg in init.args.args[1:] + init.args.kwonlyargs]
    return WrittenInit(where, fields, params, assigned_attributes(init))


def assigned_attributes(init: ast.FunctionDef) -> set[str]:
    """``self.x = ...`` targets, and ``object.__setattr__(self, "x", ...)`` for frozen classes."""
    assigned = set()
    for node in ast.walk(init):
        for target in getattr(node, "targets", [getattr(node, "target", None)]):
            if isinstance(target, ast.Attribute) and getattr(target.value, "id", "") == "self":
                assigned.add(target.attr)
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "__setattr__"
            and len(node.args) == 3
            and isinstance(node.args[1], ast.Constant)
        ):
            assigned.add(node.args[1].value)
    return assigned


def written_inits() -> list[WrittenInit]:
    found = []
    for module in hot_path_modules():
        path = REPO / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and declares_init_false(node):
                found.append(written_init(node, f"{module}.{node.name}"))
    return found


WRITTEN = written_inits()


def test_hot_path_has_written_inits() -> None:
    """The check below looks at something: the per-claim records are such classes."""
    names = {item.where.rsplit(".", 1)[1] for item in WRITTEN}
    assert names >= {"Claim", "ServiceLine", "Finding", "Decision"}


@pytest.mark.parametrize("item", WRITTEN, ids=lambda item: item.where)
def test_written_init_takes_the_fields(item: WrittenInit) -> None:
    public = [name for name in item.fields if not name.startswith("_")]
    assert item.params == public, f"{item.where}: __init__ takes {item.params}, fields {public}"
    unset = set(item.fields) - item.assigned
    assert not unset, f"{item.where}: __init__ never sets {sorted(unset)}"
