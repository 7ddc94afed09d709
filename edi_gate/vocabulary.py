"""Words of the X12 and policy vocabulary that more than one module speaks, defined once.

Why: a value written as a bare literal in two places drifts (the STC12 limit was ``MAX_MESSAGE``,
``MESSAGE_MAX`` and a bare 264; the ISA length 105 in one module and 106 in another under one
name). Loop ids and HL level codes live with the 837P grammar (``edi_gate.x12``); acknowledgment
code lists with ``edi_gate.acks.codes``; everything shared beyond one package lives here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

# The ISA is fixed-width: 105 characters of fields and separators, then the segment terminator.
ISA_FIELDS_LENGTH: Final = 105
ISA_LENGTH: Final = ISA_FIELDS_LENGTH + 1

# 277CA STC12 (free-form message, AN 1/264).
STC12_MAX_LENGTH: Final = 264

# Entity identifier codes (98/NM101, STC01-3): who a finding is about.
ENTITY_BILLING_PROVIDER: Final = "85"
ENTITY_RENDERING_PROVIDER: Final = "82"


class Scope(StrEnum):
    """What a finding on a service line takes down: the whole claim, or only that line."""

    CLAIM = "claim"
    LINE = "line"


class RejectPolicy(StrEnum):
    """What a transaction set with syntax errors takes down: its claims, or its interchange's."""

    SET = "set"
    INTERCHANGE = "interchange"
