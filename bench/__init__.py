"""Benchmark tooling for edi-gate: synthetic 837P generator, raw-parse floor, harness, profiler.

Kept outside the ``edi_gate`` package so benchmarks never ship with the product and never
import it at module level (the harness drives edi-gate through its CLI, like a user would).
"""
