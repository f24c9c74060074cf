"""The words people read: clock times and weekly slots."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from matcher.model import TimeSlot
from matcher.words import clock, slot_when


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (time(9), "9am"),
        (time(15, 30), "3:30pm"),
        (time(12), "12pm"),
        (time(0), "12am"),
        (time(0, 5), "12:05am"),
        (time(23, 45), "11:45pm"),
    ],
)
def test_a_time_of_day_as_people_write_it(at: time, words: str) -> None:
    assert clock(at) == words


def slot(**changes: object) -> TimeSlot:
    data: dict[str, object] = {"id": "sat_morning", "label": "Saturday morning", "day": "sat"}
    return TimeSlot.model_validate(data | {"part": "morning"} | changes)


def test_a_slot_says_its_hours_from_the_settings_or_its_part_of_the_day() -> None:
    assert slot_when(slot()) == "Saturday morning, 9am to 12pm"
    assert slot_when(slot(starts="10:00", ends="13:30")) == "Saturday morning, 10am to 1:30pm"
    # On a school day the afternoon is after school; at the weekend it is not.
    thursday = slot(id="thu_afternoon", label="Thursday after school", day="thu", part="afternoon")
    assert slot_when(thursday) == "Thursday after school, 3:30pm to 6pm"
    sunday = slot(id="sun_afternoon", label="Sunday afternoon", day="sun", part="afternoon")
    assert slot_when(sunday) == "Sunday afternoon, 1pm to 5pm"
    # A part the service knows no hours for: its label alone.
    assert slot_when(slot(part="twilight")) == "Saturday morning"


def test_a_slot_gives_both_its_times_or_neither() -> None:
    with pytest.raises(ValidationError, match="both starts and ends"):
        slot(starts="10:00")
