"""edi-gate: a streaming X12 837P interceptor."""

__version__ = "0.1.0"
