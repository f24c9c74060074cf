"""Erasing a child's record: an erasure request (``matcher erase --referral ID``), or the
retention period run out (``matcher erase --closed-before DATE``).

Only a referral whose journey is over is erased (closed, or its placement ended): a child
still waiting, offered or placed is closed first, with its reason, so that nothing the
service does for them is cut off half way. In one
transaction:

- the child's record goes: its needs, priority, age, preferences, hours, notes of every
  kind. What the period returns counted stays, as a stand-in under a new, random token
  (``ERASED-…``, recorded nowhere with the old id, so it cannot be turned back): the
  service, the home district, the staff ratio and weekly hours, the referral and planned
  start dates. The returns of past periods therefore do not change;
- the history, placements and offers, and the audit trail keep their rows, with the id
  replaced by that token; so do stored allocation and scenario results;
- another child's record that names this one (incompatible with) no longer does;
- the erasure itself is audited, under the token.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matcher.errors import Conflict, NotFound
from matcher.register import journey
from matcher.register.access import Action, Principal, audit
from matcher.register.store import bump_version
from matcher.register.tables import (
    AuditRow,
    IdempotencyKey,
    JobRow,
    JourneyEvent,
    PlacementRow,
    ReferralRow,
)

#: What a stand-in keeps of a child's record: what the returns count.
KEPT = ("service", "home_district", "staff_ratio", "hours", "referral_date", "planned_start_date")


@dataclass(frozen=True)
class Erased:
    token: str
    history_rows: int
    audit_rows: int


def erase(db: Session, referral_id: str, who: Principal) -> Erased:
    """Erase the closed referral ``referral_id`` (see the module); NotFound if there is no
    such referral, Conflict if it is not closed."""
    row = db.get(ReferralRow, referral_id, with_for_update=True)
    if row is None:
        raise NotFound(f"referral {referral_id} not found")
    if not journey.State(row.state).final:
        raise Conflict(
            "not_closed",
            f"referral {referral_id} is {row.state}: end its placement or close it first "
            "(with the reason), then erase it",
        )
    token = f"ERASED-{secrets.token_hex(8).upper()}"
    stand_in = {key: row.document[key] for key in KEPT if key in row.document}
    # A stand-in needs an age to be a record at all: the month it was referred (it is
    # never ranked, and its true age is gone).
    stand_in |= {"id": token, "birth_month": str(row.document["referral_date"])[:7]}
    db.add(
        ReferralRow(
            id=token,
            position=row.position,
            document=stand_in,
            state=row.state,
            state_reason=row.state_reason,
        )
    )
    db.delete(row)
    history = db.execute(
        update(JourneyEvent)
        .where(JourneyEvent.referral_id == referral_id)
        .values(referral_id=token)
    )
    db.execute(
        update(PlacementRow)
        .where(PlacementRow.referral_id == referral_id)
        .values(referral_id=token)
    )
    audited = db.execute(
        update(AuditRow).where(AuditRow.referral_id == referral_id).values(referral_id=token)
    )
    _scrub_documents(db, referral_id, token)
    bump_version(db)
    audit(db, who, Action.DELETE, token, "erased")
    return Erased(
        token,
        int(getattr(history, "rowcount", 0) or 0),
        int(getattr(audited, "rowcount", 0) or 0),
    )


def closed_before(db: Session, day: date) -> list[str]:
    """The referrals closed, or whose placement ended, before ``day`` (the retention
    period's end) and not erased yet."""
    stop = datetime.combine(day, time.min)
    finals = (journey.Event.CLOSED.value, journey.Event.ENDED.value)
    closed = select(JourneyEvent.referral_id).where(
        JourneyEvent.kind.in_(finals), JourneyEvent.at < stop
    )
    done = (journey.State.CLOSED.value, journey.State.ENDED.value)
    return sorted(
        db.scalars(
            select(ReferralRow.id).where(
                ReferralRow.state.in_(done),
                ReferralRow.id.in_(closed),
                ReferralRow.id.not_like("ERASED-%"),
            )
        )
    )


def _scrub_documents(db: Session, referral_id: str, token: str) -> None:
    """The id out of every other document: other children's records, stored results and
    requests."""
    for other in db.scalars(select(ReferralRow).where(ReferralRow.id != token)):
        named = other.document.get("incompatible_with") or []
        if referral_id in named:
            other.document = other.document | {
                "incompatible_with": [x for x in named if x != referral_id]
            }
    quoted = json.dumps(referral_id)
    for job in db.scalars(select(JobRow)):
        for field in ("payload", "result"):
            value: Any = getattr(job, field)
            if value is None:
                continue
            text = json.dumps(value)
            if quoted in text:
                setattr(job, field, json.loads(text.replace(quoted, json.dumps(token))))
    for key in db.scalars(select(IdempotencyKey)):
        # A retried request's stored answer: a retry after the erasure is a new request.
        if quoted in json.dumps(key.response):
            db.delete(key)
