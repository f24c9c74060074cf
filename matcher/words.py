"""How the service words what people read: times of day and the weekly slots, so that
pages, offers and reports say "Saturday morning, 9am to 12pm", not ``sat_morning``.

The one place such words are made; pages and reports call these rather than formatting
times themselves.
"""

from __future__ import annotations

from datetime import time

from matcher.model import TimeSlot


def clock(at: time) -> str:
    """A time of day as people write it: "9am", "3:30pm", "12pm" (noon), "12am"."""
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{suffix}"


def slot_when(slot: TimeSlot) -> str:
    """A weekly slot with its hours: "Saturday morning, 9am to 12pm" (its label alone
    where its hours are not known)."""
    hours = slot.hours_of_day()
    if hours is None:
        return slot.label
    starts, ends = hours
    return f"{slot.label}, {clock(starts)} to {clock(ends)}"
