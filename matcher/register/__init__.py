"""The register as a service uses it: the capacity ledger, booking and release, records,
access and audit, and jobs. Decisions live here; :mod:`matcher.api` only translates."""
