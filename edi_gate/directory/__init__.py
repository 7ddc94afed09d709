"""The provider directory: what the payer's roster and the public NPI registry (NPPES) say about
an NPI on a date of service (taxonomies, credentials, deactivation), kept in one SQLite file.

- ``lookup``: the interface the rule engine asks, with its bounded cache (compiled hot path);
- ``store``: the SQLite file, its imports (atomic per source) and its lookups;
- ``nppes``: reading CMS's NPPES data dissemination file (``npidata_pfile_*.csv``) as a stream.
"""
