"""Matches children with special educational needs and disabilities to short-break care."""

__version__ = "0.3.0"
