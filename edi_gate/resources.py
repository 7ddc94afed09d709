"""Files that ship inside the package: the default rulesets and the example configuration.

They are read through ``importlib.resources`` so an installed wheel finds them where pip put them,
not beside a source tree that may not exist. A regular (unzipped) install has them on disk, which is
what the loaders need: they report problems by file name and line.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_data(*parts: str) -> Path:
    """The on-disk path of ``edi_gate/data/<parts>``."""
    return Path(str(files("edi_gate").joinpath("data", *parts)))


def default_rulesets() -> Path:
    """The rulesets that ship with edi-gate (every ``*.toml`` is one, chosen per claim by date)."""
    return package_data("rulesets")


def example_conf(name: str) -> Path:
    """An example configuration file that ships with edi-gate (roster, partners)."""
    return package_data("conf", name)
