"""The register: everything that keeps the council's records and capacity in a database,
and the service's decisions over it. :mod:`matcher.api` only translates to HTTP.

- ``database.py``: engines and transactions (SQLite by default, PostgreSQL), every wait
  bounded; ``faults.py``: what a database error means for the person asking;
- ``tables.py``, ``migrate.py`` and ``migrations/``: the schema and its Alembic history;
- ``store.py``: the register's records (settings, providers, referrals) as documents;
- ``ledger.py``: the capacity left to book; ``booking.py``: booking and release;
- ``records.py``: changes to the records, and the register held in memory;
- ``access.py``: tokens, roles and the audit trail; ``idempotency.py``: safe retries;
- ``jobs.py``: long solves queued and run by a worker process; ``load.py``: a county in.
"""
