"""CLI command groups that live in their own modules, registered by one line in edi_gate.cli."""
