"""The `edi-gate` commands, one module each, gathered by the group in edi_gate.cli.

Shared by them: ``options`` (every option more than one command takes, defined once),
``context`` (the RunContext those options make: logging, engine, limits, state, input) and
``exits`` (the click exceptions that carry the exit statuses, and their table).
"""
