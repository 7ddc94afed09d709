"""What edi-gate remembers between runs, shared by every process of one installation.

One SQLite database (standard library ``sqlite3``, write-ahead log) in the state directory holds
both halves of "exactly once":

- the control-number authority (:mod:`edi_gate.state.control`): the ISA13/GS06/ST02 numbers of
  the acknowledgments edi-gate sends, never issued twice, whichever process asks;
- the duplicate record (:mod:`edi_gate.state.record`): the interchanges seen per sender (ISA05/
  ISA06 + ISA13), claimed in a transaction so two processes never both accept the same one, and
  optionally the claims seen (billing NPI, CLM01, service dates, charge).

Both use one lock discipline: every change is one ``BEGIN IMMEDIATE`` transaction of the shared
database (:mod:`edi_gate.state.store`).
"""
