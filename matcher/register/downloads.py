"""Downloads that name children: read from the register, every child in them audited.

The API and the pages both offer a finished allocation as a spreadsheet; this module is
the one read behind both (load the job, audit each child it names as read by the person
downloading, build the tables). Each face wraps the bytes in its own response.
"""

from __future__ import annotations

from typing import Literal

from matcher.errors import Conflict
from matcher.formats.spreadsheets import allocation_tables, as_bytes
from matcher.register import jobs
from matcher.register.access import Action, Principal, audit
from matcher.register.database import Database
from matcher.register.records import RegisterView
from matcher.result import Result


def allocation_spreadsheet(
    database: Database,
    register: RegisterView,
    who: Principal,
    job_id: str,
    format: Literal["csv", "xlsx"],
) -> bytes:
    """A finished allocation as a spreadsheet's bytes, each child in it audited as read by
    ``who``.

    Parameters
    ----------
    database, register
        The register's database and its in-memory view (the instance the allocation ran on).
    who
        The person downloading; the audit names them.
    job_id
        The allocation job's id (404 ``NotFound`` if there is none).
    format
        ``"csv"`` or ``"xlsx"``.

    Returns
    -------
    bytes
        The workbook or CSV text. Raises ``Conflict`` (``not_done``) while the allocation
        has not finished.
    """
    with database.write() as session:
        job = jobs.get(session, jobs.JobKind.ALLOCATION, job_id)
        if job.result is None:
            raise Conflict("not_done", "the allocation has not finished")
        result = Result.model_validate(job.result)
        instance = register.instance(session)
        for referral_id in sorted(result.referral_ids()):
            audit(session, who, Action.READ, referral_id, f"allocation {job_id} (spreadsheet)")
    return as_bytes(allocation_tables(instance, result), format)
