"""Hostile-input tooling for edi-gate: mutations, the pipeline oracle and a long fuzz runner."""
