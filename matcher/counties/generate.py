"""Seeded generator of realistic instances, calibrated to DOMAIN.md, from 50 to 15,000 referrals.

:func:`generate` returns a validated :class:`~matcher.model.Instance`; :func:`generate_document`
returns the same data as plain Python before validation, so sampling and pydantic validation
can be timed apart; :func:`calibration_summary` measures any instance against the table below.

Determinism: all randomness comes from ``numpy.random.default_rng(seed)``, split with
``Generator.spawn`` into a referral stream, a provider stream and a link stream (so asking for
more providers leaves every child's own attributes unchanged). Only ``Generator.random`` and
``Generator.permutation`` are drawn from (inverse CDFs are computed here), nothing iterates a
set, and nothing reads the clock. NumPy may change a generator's stream between major
versions; if the committed-scenario test fails after a NumPy upgrade, regenerate the file.

Calibration
-----------
[D] marks a figure from DOMAIN.md or its source documents; [A] an assumption of this module,
chosen to be plausible and to exercise every rule. Shares are of referrals unless stated.

Referrals

==========================  ===================================================================
lot mix                     1a 20 %, 1b 15 %, 2a 30 %, 2b 15 %, 3 10 %, 4 10 % [A]
staff ratio, group lots     1a: 1:3 70 %, 1:2 20 %, 1:1 10 %; 1b: 1:3 50 %, 1:2 30 %, 1:1 20 %
                            ([D] Warwickshire clubs "primarily on a 1:3 basis but also in
                            smaller groups that can offer 1:1 or 1:2"; 1b children have
                            assessed need, so fewer 1:3 [A])
staff ratio, other lots     2:1 in 2a 25 %, 2b 20 %, 3 30 %, 4 50 %, the rest 1:1 [A];
                            2:1 overall ~18.5 %
home district               council districts by population (rounded 2021 Census [A], not in
                            DOMAIN.md); 1 % in Blackpool or Blackburn with Darwen, which are
                            separate councils [D] and so excluded by the rules
age, lots 2-4               3-17 at the planning date, older ages commoner (lots 3 and 4 older
                            still); 1.5 % aged 18, 70 % of them with ``extension_agreed``, and
                            15 % of 17-year-olds with an extension agreed [A]. Lots 2-4 end at
                            18 [D spec 3.4.7], so some turn 18 soon or before their start date.
age, Break Time lots        by school cohort: turning 5 to 18 in this academic year [D spec
                            3.4.8]; 3 % one cohort too young or too old (caught by the rules) [A]
needs                       autism 40 %, behaviours that challenge 25 % (lot 4: 90 %),
                            personal care ~31 % (lot 2b: always), complex health 10 %,
                            wheelchair 10 %, moving and handling 8 % (55 % of wheelchair
                            users), hearing 3 %, visual 3 %; by lot in _NEED_RATES [A]
priority factors            crisis 8 % (lot 4: 40 %); multiple disabilities 8 %, or 55 % with
                            three needs or more; carer disabled or unwell 11 %; terminally ill
                            ~4 %; severe learning or behavioural 10 %, or 45 % with behaviours
                            that challenge; single parent with no support 13 %; lower in lot 1a
                            (no social-care assessment); about half have none [A]
Break Time exclusions       outside lot 1a: looked after 4 %, residential school 3 %,
                            existing short-break plan 6-8 %, school short breaks 2 %; inside
                            lot 1a about 1 % each, where the rules exclude them [A; rule D]
hours a week (day lots)     1a: one 2-3 h session ([D] term-time sessions last 2-3 h; ~30
                            sessions of 2.5 h is the 78-hour yearly allowance); 1b: 1-3
                            sessions of 2-3 h; 2a: 1-3 slots of 2-4 h; 2b: 1-3 slots of 1-4 h,
                            or (10 % of 2b) one 8-10 h night sit; lot 4: 2-3 slots of 2-4 h;
                            every request 2-12 h [A]
time of week                weekends and weekday after school most in demand ([D] Warwickshire:
                            "highest demand ... at weekends and school holidays"); 2b uses
                            mornings (breakfast routines, [D] spec 3.7.1) and evenings; night
                            sits the night slots; weights in _PROFILES [A]
nights (lot 3)              2-8 a month, mean ~3.8 ([D] Northamptonshire: 11 young people
                            leaving free 42 nights a month)
referral date               within 18 months before the planning date, recent ones commoner
                            (triangular, mode at the planning date) [A]
planned start               55 % within 4 weeks after the planning date, 25 % 1-4 months
                            after, 20 % already due (2-13 weeks after referral); never before
                            the referral date [A]
family choice               5 % refuse one provider, 10 % prefer 1-2 (30 % of them two), 25 %
                            have a current provider; all offer the child's lot in the child's
                            district (and staff the ratio where possible) [A]
==========================  ===================================================================

Providers

==========================  ===================================================================
count                       ``providers``, default ``max(8, round(referrals / 10))`` [A]
kinds                       overnight 3.5 % (at least one) ([D] Lancashire has "only one
                            external provider delivering overnight short breaks" besides 3
                            in-house settings); of the rest 35 % group (activity clubs, lots
                            1a/1b) and 65 % home-based (lots 2a/2b/4) [A]
services                    group: 1a 25 %, 1b 15 %, both 60 %; home: 2a 25 %, 2b 20 %,
                            2a+2b 30 %, 2a+4 10 %, 2a+2b+4 8 %, 4 7 % (a quarter offer Intensive
                            PBS: [D] "very limited IPBS capacity"); overnight: lot 3, and 30 %
                            also 2a ([D] Northamptonshire units run day-care sessions); every
                            lot is offered by at least one provider
base district               by population, rural districts at 0.7 of their share (provision
                            clusters in towns) [A]; 5 % of group and home providers are based in
                            a neighbouring area and serve the council districts nearest it [A]
coverage                    the base and the nearest districts, another area's counting 2.5
                            times its travel time: group 2-4 districts, home 3-6, overnight the
                            whole area and 3 more, or (30 %) the whole county [A]
contract                    17 % off-list [A, brief 15-20 %], Personal Care providers three
                            times likelier ([D] "personal care ... mostly off-list"); spot
                            rate 15-60 % above the hourly rate in force, and, with units,
                            15-60 % above the night rate [A]
ratios                      group: 1:3 95 %, 1:2 80 % (always if no 1:3), 1:1 60 %; home: 1:1,
                            and 2:1 75 % (95 % with lot 4); overnight: 1:1, and 2:1 80 % [A]
capabilities                by kind in _CAPABILITY_RATES, correlated within a provider (a
                            specialist provider tends to have many) [A]; personal care always
                            with lot 2b or units, PBS always with lot 4
registrations               group: Early Years + compulsory + voluntary Childcare Register 35 %
                            (from age 4), compulsory + voluntary 40 % (from 5), voluntary only
                            13 % (from 8), none 7 % (from 8), and 5 % taking 5-year-olds with
                            the voluntary register only (caught by the rules); home with
                            personal care: CQC 86 %, Ofsted fostering agency (exempt) 8 %, none
                            6 % (caught); home without: CQC 30 %; overnight: Ofsted children's
                            home, 4 % missing (caught) [D regimes, A shares]
ratings                     one per regulator registered with (the voluntary register alone is
                            not graded), dated within 4 years: outstanding 18 %, good 65 %,
                            requires improvement 17 %; safeguarding judged in 70 % [A]. 2.5 %
                            of providers (at least one; never an overnight one, so a small
                            instance keeps its beds) are inadequate, alternately overall and for
                            safeguarding only, and so suspended [D rule, A share]
ages taken                  group: from 4, 5 or 8 by registration, to 17 (25 %) or 18; home:
                            from 0-8, to 17 (60 %), 18 or 25; overnight: from its units [A]
day capacity (staff-hours)  80 % of the staff-hours demanded [A, brief 70-90 %], where demand
                            is care hours times staff per child plus, for visits at home, the
                            workers' round trip at the within-district travel time. Weekend
                            slots get 8 % less and weekdays 4 % more, rural districts 12 % less
                            and towns 8 % more, each slot +/-10 %; then rescaled so the overall
                            ratio is exactly 80 % (before rounding to half hours, unbiasedly)
                            [A; D Warwickshire weekends, Ofsted "not equitable"]. See
                            _add_staff_hours: 70 % of it is whole visits of "planted" children
                            at a provider that could take them, the rest spread by provider
                            size (Pareto) over the slots each provider works.
overnight units             bed-nights available (beds x open nights x 85 % target occupancy,
                            [D] Northamptonshire) are 75 % of the nights demanded ([D] overnight
                            provision "critically insufficient"); 2-8 beds a unit (2 plus a
                            skewed share of the rest), 50 % with 1-2 solo rooms; specialisms
                            autism / learning disability 45 %, complex health 25 %, general 30
                            % (15 % have two); 30 % open 6 days; ages from 5, 8 or 11 to 17 or
                            18 [A]
==========================  ===================================================================

What the result looks like (700 referrals, measured with the rule functions and an exact
solver): about 91-93 % of children have at least one eligible provider (the rest are outside
the council, out of the age window, excluded from Break Time, or have needs nobody nearby
meets); an optimal placement of as many children as possible places about 56-62 %, a greedy
one about 50 %. Personal Care and Intensive PBS are the tightest, as the documents report.

Names are invented from neutral word lists; identifiers are pseudonymous
(``P-0001``, ``U-0001``, ``R-00001``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.counties import lancashire
from matcher.model import (
    HOME_LOTS,
    Capability,
    Contract,
    Grade,
    Instance,
    Lot,
    Need,
    PriorityFactor,
    RegisteredActivity,
    Regulator,
    Settings,
    StaffRatio,
    UnitSpecialism,
    Weekday,
)

__all__ = [
    "DAY_CAPACITY_RATIO",
    "OVERNIGHT_CAPACITY_RATIO",
    "calibration_summary",
    "default_provider_count",
    "generate",
    "generate_document",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# --------------------------------------------------------------------------------------
# Calibration constants (see the module docstring for where each comes from)
# --------------------------------------------------------------------------------------

LOTS: list[Lot] = [
    Lot.BREAK_TIME,
    Lot.BREAK_TIME_PLUS,
    Lot.DAY_TIME,
    Lot.PERSONAL_CARE,
    Lot.NIGHT_TIME,
    Lot.INTENSIVE_PBS,
]
_L1A, _L1B, _L2A, _L2B, _L3, _L4 = range(6)
_LOT_MIX = [0.20, 0.15, 0.30, 0.15, 0.10, 0.10]

RATIOS: list[StaffRatio] = [
    StaffRatio.GROUP_1_3,
    StaffRatio.GROUP_1_2,
    StaffRatio.ONE_TO_ONE,
    StaffRatio.TWO_TO_ONE,
]
#: Rows are lots (in LOTS order), columns ratios (in RATIOS order).
_RATIO_MIX = np.array(
    [
        [0.70, 0.20, 0.10, 0.00],  # 1a: activity clubs, mainly 1:3
        [0.50, 0.30, 0.20, 0.00],  # 1b: assessed need, smaller groups more often
        [0.00, 0.00, 0.75, 0.25],  # 2a: supported exploring, 1:1 or 2:1
        [0.00, 0.00, 0.80, 0.20],  # 2b: personal care at home
        [0.00, 0.00, 0.70, 0.30],  # 3: overnight; waking 2:1 for the most complex
        [0.00, 0.00, 0.50, 0.50],  # 4: intensive PBS, half 2:1
    ]
)

#: Rounded 2021 Census populations, in thousands (an assumption: not in DOMAIN.md). Used as
#: weights; a place missing from this table (other councils' settings) weighs the median.
POPULATION: dict[str, float] = {
    "lancaster": 143,
    "fylde": 81,
    "wyre": 113,
    "preston": 148,
    "chorley": 118,
    "south_ribble": 111,
    "west_lancashire": 117,
    "burnley": 95,
    "pendle": 96,
    "rossendale": 71,
    "hyndburn": 82,
    "ribble_valley": 62,
    "blackpool": 141,
    "blackburn_with_darwen": 155,
}
_RURAL: dict[str, bool] = {pid: rural for pid, *_, rural in lancashire.PLACES}
#: Share of referrals living in a neighbouring area (outside the council).
OUTSIDE_COUNCIL_SHARE = 0.01

#: Ages 3..17 at the planning date for lots 2a and 2b, then for lots 3 and 4.
_AGE_WEIGHTS_DAY = [1.5, 2.5, 4.5, 5.5, 6, 7, 7.5, 8, 8.5, 8.5, 8.5, 8.5, 8, 7.5, 6.5]
_AGE_WEIGHTS_OLDER = [0.5, 1, 2, 3, 4, 5, 6.5, 7.5, 8.5, 9.5, 10, 10.5, 10.5, 10, 9]
#: Break Time: the age the child turns in this academic year, 5..18.
_COHORT_WEIGHTS = [6, 6, 6, 9, 9, 9, 9, 8.5, 8.5, 8.5, 6, 6, 4, 3]
AGED_18_SHARE = 0.015
BREAK_TIME_OUT_OF_WINDOW_SHARE = 0.03

NEEDS_SAMPLED: list[Need] = [
    Need.AUTISM,
    Need.BEHAVIOURS_THAT_CHALLENGE,
    Need.PERSONAL_CARE,
    Need.COMPLEX_HEALTH,
    Need.WHEELCHAIR_USER,
    Need.HEARING_IMPAIRMENT,
    Need.VISUAL_IMPAIRMENT,
]
#: Rows are lots, columns NEEDS_SAMPLED. Moving and handling is drawn after, from wheelchair use.
_NEED_RATES = np.array(
    [
        [0.35, 0.08, 0.08, 0.03, 0.05, 0.03, 0.03],  # 1a: SEND without social-care assessment
        [0.45, 0.20, 0.20, 0.08, 0.10, 0.03, 0.03],  # 1b
        [0.40, 0.22, 0.15, 0.08, 0.10, 0.03, 0.03],  # 2a
        [0.30, 0.15, 1.00, 0.20, 0.18, 0.03, 0.03],  # 2b: personal care by definition
        [0.45, 0.30, 0.45, 0.20, 0.15, 0.03, 0.03],  # 3
        [0.55, 0.90, 0.25, 0.08, 0.05, 0.03, 0.03],  # 4: behaviours that challenge
    ]
)
_MOVING_AND_HANDLING_IF_WHEELCHAIR = 0.55
_MOVING_AND_HANDLING_OTHERWISE = 0.03

PRIORITIES: list[PriorityFactor] = list(PriorityFactor)
#: Rows are lots, columns PRIORITIES. Two columns are overridden below by the child's needs.
_PRIORITY_RATES = np.array(
    [
        [0.02, 0.08, 0.06, 0.01, 0.10, 0.08],  # 1a
        [0.04, 0.08, 0.11, 0.03, 0.10, 0.13],  # 1b
        [0.05, 0.08, 0.11, 0.04, 0.10, 0.13],  # 2a
        [0.06, 0.08, 0.11, 0.10, 0.10, 0.13],  # 2b
        [0.06, 0.08, 0.11, 0.08, 0.10, 0.13],  # 3
        [0.40, 0.08, 0.11, 0.02, 0.10, 0.13],  # 4: edge of care, families in crisis
    ]
)
_MULTIPLE_IF_3_NEEDS = 0.55
_SEVERE_IF_CHALLENGING = 0.45

#: Rows are lots; columns looked_after, residential_school, existing_short_break_plan,
#: school_short_breaks. Inside lot 1a they exclude the child from Break Time.
_FLAG_RATES = np.array(
    [
        [0.010, 0.010, 0.015, 0.010],  # 1a
        [0.040, 0.030, 0.060, 0.020],  # 1b
        [0.040, 0.030, 0.080, 0.020],  # 2a
        [0.040, 0.030, 0.080, 0.020],  # 2b
        [0.040, 0.030, 0.080, 0.020],  # 3
        [0.040, 0.030, 0.080, 0.020],  # 4
    ]
)
EXTENSION_AT_17 = 0.15
EXTENSION_AT_18 = 0.70

_NIGHTS = [2, 3, 4, 5, 6, 7, 8]
_NIGHTS_WEIGHTS = [0.30, 0.20, 0.25, 0.07, 0.10, 0.03, 0.05]  # mean 3.76

REFERRAL_WINDOW_DAYS = 548  # 18 months
REFUSAL_SHARE = 0.05
PREFERENCE_SHARE = 0.10
CURRENT_PROVIDER_SHARE = 0.25

#: Day capacity as a share of the staff-hours demanded, overall (see _add_staff_hours).
DAY_CAPACITY_RATIO = 0.80
#: Weekend slots tighter than weekdays (Warwickshire: weekend demand is least met), and
#: rural districts tighter than towns (Ofsted: access "not equitable"); both are then
#: normalised so the overall ratio stays DAY_CAPACITY_RATIO.
_WEEKEND_TIGHTER = 0.92
_WEEKDAY_LOOSER = 1.04
_RURAL_TIGHTER = 0.88
_TOWN_LOOSER = 1.08
_SLOT_NOISE = 0.10  # each slot's ratio jittered by up to +/-10 %
#: Share of day capacity built from whole planted visits (the rest is spread thinly).
_PLANTED_SHARE = 0.70
#: Provider sizes are Pareto(1.6), capped at 30 times the smallest: many small, a few large.
_SIZE_TAIL = 1.6
_SIZE_CAP = 30.0
#: Chance a provider works a slot: this floor, rising to 1 in its busiest slot.
_WORK_BASE = 0.15
#: Bed-nights available (at target occupancy) as a share of the nights demanded.
OVERNIGHT_CAPACITY_RATIO = 0.75
_TARGET_OCCUPANCY = 0.85  # Northamptonshire's contracted occupancy; the model's default
_DAYS_PER_MONTH = 365.25 / 12

NIGHT_PROVIDER_SHARE = 0.035
GROUP_PROVIDER_SHARE = 0.35
NEIGHBOUR_BASED_SHARE = 0.05
OFF_LIST_SHARE = 0.17
SUSPENDED_SHARE = 0.025
SPOT_PREMIUM = (0.15, 0.60)

_GROUP, _HOME, _NIGHT = 0, 1, 2
_FAMILY_LOTS = {_GROUP: (_L1A, _L1B), _HOME: (_L2A, _L2B, _L4), _NIGHT: (_L3,)}

_GROUP_SERVICES = [((_L1A,), 0.25), ((_L1B,), 0.15), ((_L1A, _L1B), 0.60)]
_HOME_SERVICES = [
    ((_L2A,), 0.25),
    ((_L2B,), 0.20),
    ((_L2A, _L2B), 0.30),
    ((_L2A, _L4), 0.10),
    ((_L2A, _L2B, _L4), 0.08),
    ((_L4,), 0.07),
]
_NIGHT_ALSO_DAY_TIME = 0.30
_GROUP_COVERAGE = [0.3, 0.4, 0.3]  # 2, 3, 4 districts
_HOME_COVERAGE = [0.25, 0.35, 0.25, 0.15]  # 3, 4, 5, 6 districts
_NIGHT_COUNTYWIDE = 0.30

CAPABILITIES: list[Capability] = list(Capability)
#: Rows are kinds (group, home, overnight), columns CAPABILITIES in enum order: hearing,
#: visual, personal care, PBS, complex health, autism quiet space, wheelchair, moving and
#: handling.
_CAPABILITY_RATES = np.array(
    [
        [0.20, 0.20, 0.60, 0.55, 0.15, 0.85, 0.70, 0.45],
        [0.20, 0.20, 0.60, 0.55, 0.30, 0.85, 0.55, 0.55],
        [0.30, 0.30, 1.00, 0.75, 0.55, 0.90, 0.75, 0.75],
    ]
)

_EY = RegisteredActivity.OFSTED_EARLY_YEARS
_CC = RegisteredActivity.OFSTED_CHILDCARE_COMPULSORY
_VC = RegisteredActivity.OFSTED_CHILDCARE_VOLUNTARY
#: Group providers: (registrations, youngest age taken, weight). The last deliberately
#: takes 5-7 year-olds without the compulsory Childcare Register.
_GROUP_REGISTRATIONS: list[tuple[tuple[RegisteredActivity, ...], int, float]] = [
    ((_EY, _CC, _VC), 4, 0.35),
    ((_CC, _VC), 5, 0.40),
    ((_VC,), 8, 0.13),
    ((), 8, 0.07),
    ((_VC,), 5, 0.05),
]
_CQC = RegisteredActivity.CQC_PERSONAL_CARE
_FOSTERING = RegisteredActivity.OFSTED_FOSTERING_AGENCY
_HOME_PC_REGISTRATIONS = [((_CQC,), 0.86), ((_FOSTERING,), 0.08), ((), 0.06)]
_HOME_OTHER_REGISTRATIONS = [((_CQC,), 0.30), ((), 0.70)]
_NIGHT_MISSING_REGISTRATION = 0.04

_GRADES = [Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT]
_GRADE_WEIGHTS = [0.18, 0.65, 0.17]
_SAFEGUARDING_JUDGED = 0.70
_SAFEGUARDING_LOWER = 0.20
RATING_WINDOW_DAYS = 4 * 365

_HOME_MIN_AGE = [(0, 0.45), (3, 0.10), (5, 0.35), (8, 0.10)]
_HOME_MAX_AGE = [(17, 0.60), (18, 0.20), (25, 0.20)]
_GROUP_MAX_AGE = [(17, 0.25), (18, 0.75)]

_UNIT_MIN_AGE = [(5, 0.50), (8, 0.35), (11, 0.15)]
_UNIT_MAX_AGE = [(17, 0.80), (18, 0.20)]
_SOLO_ROOMS = [0.50, 0.35, 0.15]  # 0, 1, 2
_SPECIALISMS = [
    UnitSpecialism.AUTISM_LEARNING_DISABILITY,
    UnitSpecialism.COMPLEX_HEALTH,
    UnitSpecialism.GENERAL,
]
_SPECIALISM_WEIGHTS = [0.45, 0.25, 0.30]
_TWO_SPECIALISMS = 0.15
_SIX_DAYS = 0.30
_MIN_BEDS, _MAX_BEDS = 2, 8

_PREFIXES = [
    "Ribble", "Pennine", "Lune", "Bowland", "Calder", "Brookside", "Meadow", "Willow",
    "Heather", "Rowan", "Hawthorn", "Larch", "Kestrel", "Skylark", "Moorland", "Riverside",
    "Hillside", "Fellside", "Bluebell", "Foxglove", "Harbour", "Beacon", "Cedar", "Juniper",
    "Linden", "Marram", "Thistle", "Wren", "Curlew", "Millstone",
]  # fmt: skip
_MIDDLES = [
    "Sunrise", "Horizon", "Bright", "Open Door", "Compass", "Lantern", "Stepping Stones",
    "Evergreen", "Northstar", "Bridge", "Kite", "Harmony", "Pathway", "Springboard", "Tandem",
]  # fmt: skip
_SUFFIXES = {
    _GROUP: ["Activity Club", "Play Club", "Youth Club", "Adventures", "Clubs"],
    _HOME: ["Care", "Support", "Home Care", "Care Services", "Community Support"],
    _NIGHT: ["Short Breaks", "Children's Services", "Care Homes"],
}
_HOUSES = ["House", "Lodge", "Cottage", "View", "Court"]


@dataclass(frozen=True)
class _Profile:
    """How one kind of request spreads over the week: slot weights, slot count, hours."""

    weekday: dict[str, float]  # weight by part of day, Monday to Friday
    weekend: dict[str, float]  # weight by part of day, Saturday and Sunday
    slots: list[float]  # chance of 1, 2, 3 slots
    hours: list[float]  # hours per slot, options
    hours_weights: list[float]


_PROFILES: list[_Profile] = [
    # 0: Break Time, one 2-3 h session a week, after school or at the weekend.
    _Profile(
        {"morning": 0, "afternoon": 3, "evening": 1, "night": 0},
        {"morning": 4, "afternoon": 5, "evening": 0.5, "night": 0},
        [1.0, 0.0, 0.0],
        [2.0, 2.5, 3.0],
        [0.4, 0.3, 0.3],
    ),
    # 1: Break Time Plus: the plan's hours, in 1-3 sessions.
    _Profile(
        {"morning": 0, "afternoon": 3, "evening": 1, "night": 0},
        {"morning": 4, "afternoon": 5, "evening": 0.5, "night": 0},
        [0.5, 0.4, 0.1],
        [2.0, 2.5, 3.0],
        [0.4, 0.3, 0.3],
    ),
    # 2: Day Time: out and about after school, Saturdays (Warwickshire's supported exploring).
    _Profile(
        {"morning": 0.2, "afternoon": 2.5, "evening": 1.2, "night": 0},
        {"morning": 4, "afternoon": 5, "evening": 1, "night": 0},
        [0.35, 0.45, 0.20],
        [2.0, 2.5, 3.0, 3.5, 4.0],
        [0.25, 0.2, 0.25, 0.1, 0.2],
    ),
    # 3: Personal Care by day: breakfast and bedtime routines, weekend days.
    _Profile(
        {"morning": 2, "afternoon": 1, "evening": 3, "night": 0},
        {"morning": 3, "afternoon": 2, "evening": 2.5, "night": 0},
        [0.25, 0.45, 0.30],
        [1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
        [0.15, 0.15, 0.25, 0.15, 0.2, 0.1],
    ),
    # 4: Personal Care as a night sit at home.
    _Profile(
        {"morning": 0, "afternoon": 0, "evening": 0, "night": 1},
        {"morning": 0, "afternoon": 0, "evening": 0, "night": 1.3},
        [1.0, 0.0, 0.0],
        [8.0, 9.0, 10.0],
        [0.4, 0.3, 0.3],
    ),
    # 5: Intensive PBS: several sessions, after school, evenings and weekends.
    _Profile(
        {"morning": 0.5, "afternoon": 2.5, "evening": 2.5, "night": 0},
        {"morning": 3, "afternoon": 3.5, "evening": 2, "night": 0},
        [0.0, 0.5, 0.5],
        [2.0, 3.0, 4.0],
        [0.3, 0.4, 0.3],
    ),
]
_NIGHT_SIT_SHARE = 0.10
_LOT_PROFILE = {_L1A: 0, _L1B: 1, _L2A: 2, _L2B: 3, _L4: 5}
_MIN_TOTAL_HOURS = 2.0

# --------------------------------------------------------------------------------------
# Sampling helpers: everything is drawn from rng.random (inverse CDFs), whose stream is the
# most stable part of NumPy's Generator.
# --------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, weights: list[float], size: int) -> IntArray:
    """``size`` indices drawn with the given (unnormalised) weights."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    out = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(out, len(weights) - 1).astype(np.int64)


def _pick_rows(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One index per row of ``weights`` (rows are unnormalised distributions)."""
    cdf: FloatArray = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    u: FloatArray = rng.random(len(weights))
    out: IntArray = (cdf <= u[:, None]).sum(axis=1).astype(np.int64)
    return np.minimum(out, int(weights.shape[1]) - 1)


def _top_k(rng: np.random.Generator, weights: FloatArray, k: int) -> IntArray:
    """Per row, ``k`` columns drawn without replacement with the given weights.

    Efraimidis-Spirakis keys ``log(u) / w`` (largest first); a zero weight is never drawn
    unless a row has fewer than ``k`` positive weights.
    """
    u = rng.random(weights.shape)
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(np.maximum(u, 1e-300)) / weights, -np.inf)
    return np.argsort(-keys, axis=1, kind="stable")[:, :k].astype(np.int64)


def _weighted_subset(rng: np.random.Generator, weights: FloatArray, k: int) -> IntArray:
    """``k`` distinct indices drawn with the given weights, in a deterministic order."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(_top_k(rng, weights[None, :], k)[0])


def _correlated_draws(rng: np.random.Generator, rates: FloatArray) -> BoolArray:
    """Per row, yes/no draws with the given rates, positively correlated within the row.

    Each row has a latent level ``q`` shared by its columns; column j is ``z = (q + u_j) / 2``
    with ``u_j`` its own uniform. ``z`` is triangular on [0, 1], so ``F(z) < rate`` with F
    its CDF keeps every column's rate exact while a low-``q`` row (a specialist provider)
    tends to have many yeses and a high-``q`` row few.
    """
    q = rng.random((rates.shape[0], 1))
    z = (q + rng.random(rates.shape)) / 2
    cdf = np.where(z <= 0.5, 2 * z * z, 1 - 2 * (1 - z) ** 2)
    out: BoolArray = cdf < rates
    return out


# --------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geography:
    ids: list[str]  # council districts, then neighbouring areas
    council: int  # the first ``council`` places are the council's districts
    area: list[str]
    minutes: FloatArray  # places x places
    population: FloatArray
    rural: BoolArray


def _geography(settings: Settings) -> _Geography:
    places = [*settings.districts, *settings.neighbouring_areas]
    ids = [p.id for p in places]
    known = [POPULATION[i] for i in ids if i in POPULATION]
    median = float(np.median(known)) if known else 100.0
    minutes = np.array(
        [[settings.travel_minutes[a][b] for b in ids] for a in ids], dtype=np.float64
    )
    return _Geography(
        ids=ids,
        council=len(settings.districts),
        area=[p.area for p in places],
        minutes=minutes,
        population=np.array([POPULATION.get(i, median) for i in ids], dtype=np.float64),
        rural=np.array([_RURAL.get(i, False) for i in ids], dtype=np.bool_),
    )


# --------------------------------------------------------------------------------------
# Time slots
# --------------------------------------------------------------------------------------


def _slot_weights(settings: Settings) -> FloatArray:
    """Weight of each slot for each profile (profiles x slots)."""
    weekend_days = (Weekday.SAT, Weekday.SUN)
    table = np.zeros((len(_PROFILES), len(settings.time_slots)), dtype=np.float64)
    for p, profile in enumerate(_PROFILES):
        for s, slot in enumerate(settings.time_slots):
            parts = profile.weekend if slot.day in weekend_days else profile.weekday
            # A part of day these profiles do not know (another council's slots) weighs 1.
            table[p, s] = parts.get(slot.part, 1.0)
    return table


def _is_weekend(settings: Settings) -> BoolArray:
    return np.array(
        [s.day in (Weekday.SAT, Weekday.SUN) for s in settings.time_slots], dtype=np.bool_
    )


# --------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------


@dataclass
class _Referrals:
    lot: IntArray
    ratio: IntArray
    place: IntArray
    birth: IntArray  # months since year 0 (year * 12 + month - 1)
    needs: BoolArray  # n x len(Need), in Need enum order
    priority: BoolArray  # n x len(PRIORITIES)
    flags: BoolArray  # n x 4: looked_after, residential_school, plan, school_short_breaks
    extension: BoolArray
    hours: FloatArray  # n x slots
    nights: IntArray
    referral_day: IntArray  # date ordinals
    start_day: IntArray


_NEED_ORDER: list[Need] = list(Need)


def _sample_referrals(
    rng: np.random.Generator, n: int, settings: Settings, geo: _Geography
) -> _Referrals:
    plan = settings.planning_date
    lot = _pick(rng, _LOT_MIX, n)
    ratio = _pick_rows(rng, _RATIO_MIX[lot])

    # Where the child lives: council districts by population, a few just outside.
    weights = geo.population.copy()
    council, outside = weights[: geo.council], weights[geo.council :]
    outside_share = OUTSIDE_COUNCIL_SHARE if outside.size else 0.0
    weights[: geo.council] = (1 - outside_share) * council / council.sum()
    if outside.size:
        weights[geo.council :] = outside_share * outside / outside.sum()
    place = _pick(rng, list(weights), n)

    # Birth month, in months since year 0.
    plan_month = plan.year * 12 + plan.month - 1
    in_month = _pick(rng, [1.0] * 12, n)
    age_day = 3 + _pick(rng, _AGE_WEIGHTS_DAY, n)
    age_older = 3 + _pick(rng, _AGE_WEIGHTS_OLDER, n)
    age = np.where((lot == _L3) | (lot == _L4), age_older, age_day)
    aged_18 = rng.random(n) < AGED_18_SHARE
    age = np.where(aged_18, 18, age)
    birth = plan_month - (12 * age + in_month)
    # Break Time: by school cohort. The academic year began in September of ``year0``; a
    # child turning ``c`` in it was born between September of year0 - c and August after.
    year0 = plan.year if plan.month >= 9 else plan.year - 1
    cohort = 5 + _pick(rng, _COHORT_WEIGHTS, n)
    out_of_window = rng.random(n) < BREAK_TIME_OUT_OF_WINDOW_SHARE
    too_young = rng.random(n) < 0.5
    cohort = np.where(out_of_window, np.where(too_young, 4, 19), cohort)
    bt_birth = (year0 - cohort) * 12 + 8 + in_month
    break_time = (lot == _L1A) | (lot == _L1B)
    birth = np.where(break_time, bt_birth, birth)
    age_now = (plan_month - birth) // 12
    ext_draw = rng.random(n)
    extension = (~break_time) & (
        ((age_now == 17) & (ext_draw < EXTENSION_AT_17))
        | ((age_now >= 18) & (ext_draw < EXTENSION_AT_18))
    )

    # Needs: independent draws at the lot's rates; moving and handling goes with wheelchairs.
    sampled = rng.random((n, len(NEEDS_SAMPLED))) < _NEED_RATES[lot]
    needs = np.zeros((n, len(_NEED_ORDER)), dtype=np.bool_)
    for j, need in enumerate(NEEDS_SAMPLED):
        needs[:, _NEED_ORDER.index(need)] = sampled[:, j]
    wheelchair = needs[:, _NEED_ORDER.index(Need.WHEELCHAIR_USER)]
    mh_rate = np.where(
        wheelchair, _MOVING_AND_HANDLING_IF_WHEELCHAIR, _MOVING_AND_HANDLING_OTHERWISE
    )
    needs[:, _NEED_ORDER.index(Need.MOVING_AND_HANDLING)] = rng.random(n) < mh_rate

    # Priority factors, two of them following the child's needs.
    rates = _PRIORITY_RATES[lot].copy()
    many_needs = needs.sum(axis=1) >= 3
    challenging = needs[:, _NEED_ORDER.index(Need.BEHAVIOURS_THAT_CHALLENGE)]
    multiple = PRIORITIES.index(PriorityFactor.MULTIPLE_DISABILITIES)
    severe = PRIORITIES.index(PriorityFactor.SEVERE_LEARNING_OR_BEHAVIOURAL)
    rates[:, multiple] = np.where(many_needs, _MULTIPLE_IF_3_NEEDS, rates[:, multiple])
    rates[:, severe] = np.where(challenging, _SEVERE_IF_CHALLENGING, rates[:, severe])
    priority = rng.random(rates.shape) < rates

    flags = rng.random((n, _FLAG_RATES.shape[1])) < _FLAG_RATES[lot]

    hours = _sample_hours(rng, lot, settings)
    nights = np.asarray(_NIGHTS, dtype=np.int64)[_pick(rng, _NIGHTS_WEIGHTS, n)]
    nights = np.where(lot == _L3, nights, 0)

    # Referral date: the last 18 months, recent ones commoner (triangular, mode today).
    plan_day = plan.toordinal()
    days_back = np.floor(REFERRAL_WINDOW_DAYS * (1 - np.sqrt(1 - rng.random(n))))
    referral_day = plan_day - days_back.astype(np.int64)
    kind = _pick(rng, [0.55, 0.25, 0.20], n)
    u = rng.random(n)
    start = np.where(
        kind == 0,
        plan_day + np.floor(28 * u),
        np.where(kind == 1, plan_day + 28 + np.floor(92 * u), referral_day + 14 + np.floor(77 * u)),
    ).astype(np.int64)
    start = np.maximum(start, referral_day)

    return _Referrals(
        lot=lot,
        ratio=ratio,
        place=place,
        birth=birth.astype(np.int64),
        needs=needs,
        priority=priority,
        flags=flags,
        extension=extension,
        hours=hours,
        nights=nights.astype(np.int64),
        referral_day=referral_day,
        start_day=start,
    )


def _sample_hours(rng: np.random.Generator, lot: IntArray, settings: Settings) -> FloatArray:
    """Hours per week in each slot (n x slots); zero for overnight referrals."""
    n, n_slots = lot.size, len(settings.time_slots)
    profile = np.full(n, -1, dtype=np.int64)
    for lot_index, p in _LOT_PROFILE.items():
        profile[lot == lot_index] = p
    night_sit = rng.random(n) < _NIGHT_SIT_SHARE
    profile[(lot == _L2B) & night_sit] = 4
    slot_weights = _slot_weights(settings)
    hours = np.zeros((n, n_slots), dtype=np.float64)
    # One profile at a time, each drawing for its own rows only.
    for p, prof in enumerate(_PROFILES):
        rows = np.flatnonzero(profile == p)
        weights = np.broadcast_to(slot_weights[p], (rows.size, n_slots))
        count = 1 + _pick(rng, prof.slots, rows.size)
        count = np.minimum(count, int((slot_weights[p] > 0).sum()))
        chosen = _top_k(rng, np.ascontiguousarray(weights), 3)
        per_slot = np.asarray(prof.hours)[_pick(rng, prof.hours_weights, rows.size * 3)]
        per_slot = per_slot.reshape(rows.size, 3)
        used = np.arange(3)[None, :] < count[:, None]
        per_slot = np.where(used, per_slot, 0.0)
        # A single short session is topped up to the 2-hour minimum a request makes sense at.
        short = per_slot.sum(axis=1) < _MIN_TOTAL_HOURS
        per_slot[short, 0] = _MIN_TOTAL_HOURS
        block = np.zeros((rows.size, n_slots), dtype=np.float64)
        np.put_along_axis(block, chosen, per_slot, axis=1)
        hours[rows] = block
    return hours


def _staff_per_child() -> FloatArray:
    return np.array([r.staff_per_child for r in RATIOS], dtype=np.float64)


def _workers_per_visit() -> FloatArray:
    return np.array([max(1, math.ceil(r.staff_per_child)) for r in RATIOS], dtype=np.float64)


def _home_visit_travel(geo: _Geography, refs: _Referrals) -> FloatArray:
    """Staff-hours of the round trip per home visit, at the within-district travel time."""
    own = np.diag(geo.minutes)[refs.place]
    is_home = np.isin(refs.lot, [LOTS.index(lot) for lot in HOME_LOTS])
    return np.where(is_home, 2 * own / 60 * _workers_per_visit()[refs.ratio], 0.0)


def _day_demand(geo: _Geography, refs: _Referrals) -> FloatArray:
    """Staff-hours demanded per lot, home place and slot (lots x places x slots)."""
    care = refs.hours * _staff_per_child()[refs.ratio][:, None]
    travel = _home_visit_travel(geo, refs)[:, None] * (refs.hours > 0)
    demand = care + travel
    out = np.zeros((len(LOTS), len(geo.ids), demand.shape[1]), dtype=np.float64)
    np.add.at(out, (refs.lot, refs.place), demand)
    return out


# --------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------


@dataclass
class _Providers:
    kind: IntArray
    base: IntArray
    districts: list[list[int]]
    services: list[list[int]]
    planted: IntArray  # per referral: the provider its capacity was planted with, or -1
    data: list[dict[str, Any]]


def default_provider_count(referrals: int) -> int:
    """About one provider for every ten referrals, and never fewer than eight."""
    return max(8, round(referrals / 10))


def _names(rng: np.random.Generator, kinds: IntArray) -> list[str]:
    """Invented organisation names, distinct within each kind while the word lists last."""
    names = [""] * kinds.size
    for kind, suffixes in _SUFFIXES.items():
        rows = np.flatnonzero(kinds == kind)
        total = len(_PREFIXES) * len(_MIDDLES) * len(suffixes)
        order = rng.permutation(total)
        for j, row in enumerate(rows.tolist()):
            code = int(order[j % total])
            prefix, rest = divmod(code, len(_MIDDLES) * len(suffixes))
            middle, suffix = divmod(rest, len(suffixes))
            name = f"{_PREFIXES[prefix]} {_MIDDLES[middle]} {suffixes[suffix]}"
            names[row] = name if j < total else f"{name} {j // total + 1}"
    return names


def _unit_name(code: int, repeat: int) -> str:
    prefix, house = divmod(code, len(_HOUSES))
    name = f"{_PREFIXES[prefix]} {_HOUSES[house]}"
    return name if repeat == 0 else f"{name} {repeat + 1}"


def _coverage(
    rng: np.random.Generator, geo: _Geography, kind: IntArray, base: IntArray
) -> list[list[int]]:
    """Council districts each provider covers: its base and the nearest, mostly in its area.

    Another area's districts count 2.5 times their travel time, plus a random margin (up to
    ~20 minutes), so coverage stays mostly within an area but sometimes crosses. Group
    venues take children from 2-4 districts; home agencies visit 3-6; overnight units,
    which families travel further to, take their whole area and the 3 nearest districts
    beyond it, or (30 %) the whole county.
    """
    m = kind.size
    count = np.where(
        kind == _GROUP,
        2 + _pick(rng, _GROUP_COVERAGE, m),
        3 + _pick(rng, _HOME_COVERAGE, m),
    )
    night_county = rng.random(m) < _NIGHT_COUNTYWIDE
    noise = -np.log(np.maximum(rng.random((m, geo.council)), 1e-300)) * 10.0
    out: list[list[int]] = []
    for p in range(m):
        b = int(base[p])
        same_area = np.array([geo.area[c] == geo.area[b] for c in range(geo.council)])
        score = geo.minutes[b, : geo.council] * np.where(same_area, 1.0, 2.5) + noise[p]
        if kind[p] == _NIGHT:
            wanted = geo.council if night_county[p] else int(same_area.sum()) + 3
        else:
            wanted = int(count[p])
        if b < geo.council:
            score[b] = -np.inf  # the base district always comes first
        order = np.argsort(score, kind="stable")
        out.append(sorted(order[: min(wanted, geo.council)].tolist()))
    return out


def _sample_providers(
    rng: np.random.Generator,
    m: int,
    settings: Settings,
    geo: _Geography,
    refs: _Referrals,
) -> _Providers:
    """``m`` providers: their kind, base, coverage, services, ratios, capabilities,
    registrations, ratings and contracts, then units, staff-hours and names.

    Each part draws from ``rng`` in turn, in this order; the order is the generator's
    contract (the same seed gives the same instance), so a part that needs more draws
    must come after the others.
    """
    kind = _kinds(rng, m)
    base = _bases(rng, geo, kind)
    districts = _coverage(rng, geo, kind, base)
    services, offers = _services(rng, kind)
    ratios = _ratios(rng, kind, offers)
    caps = _capabilities(rng, kind, offers)
    personal_care = caps[:, CAPABILITIES.index(Capability.PERSONAL_CARE)]
    registrations, min_age, max_age = _registrations(rng, kind, personal_care)
    # Graded providers: any registration except the voluntary Childcare Register alone.
    graded = np.array([bool(set(r) - {_VC}) for r in registrations])
    grades = _RatingDraws.draw(rng, kind, graded)
    off_list, hourly_premium, night_premium = _contracts(rng, kind, offers)

    data: list[dict[str, Any]] = []
    for p in range(m):
        data.append(
            {
                "contract": Contract.OFF_LIST if off_list[p] else Contract.FRAMEWORK,
                "base_district": geo.ids[int(base[p])],
                "districts": [geo.ids[d] for d in districts[p]],
                "services": [LOTS[i] for i in sorted(services[p])],
                "ratios": [RATIOS[i] for i in range(4) if ratios[p, i]],
                "capabilities": [c for j, c in enumerate(CAPABILITIES) if caps[p, j]],
                "registrations": registrations[p],
                "min_age": int(min_age[p]),
                "max_age": int(max_age[p]),
            }
        )
        if off_list[p]:
            data[p]["spot_hourly_rate"] = round(settings.hourly_rate * (1 + hourly_premium[p]), 2)
        regulators = sorted({r.regulator for r in registrations[p]}) if graded[p] else []
        data[p]["ratings"] = grades.ratings(p, regulators, settings.planning_date)

    # Units first: overnight providers' age bands come from their units.
    _add_units(rng, settings, refs, kind, base, geo, off_list, night_premium, data)
    min_age = np.array([d["min_age"] for d in data], dtype=np.int64)
    max_age = np.array([d["max_age"] for d in data], dtype=np.int64)
    covers = np.zeros((m, len(geo.ids)), dtype=np.bool_)
    for p, ds in enumerate(districts):
        covers[p, ds] = True
    fit = _Fit(kind, base, offers, covers, ratios, caps, min_age, max_age)
    planted = _add_staff_hours(rng, settings, geo, refs, fit, data)
    names = _names(rng, kind)
    width = max(4, len(str(m)))
    for p in range(m):
        data[p]["id"] = f"P-{p + 1:0{width}d}"
        data[p]["name"] = names[p]
    return _Providers(
        kind=kind,
        base=base,
        districts=districts,
        services=services,
        planted=planted,
        data=data,
    )


def _kinds(rng: np.random.Generator, m: int) -> IntArray:
    """Each provider's kind (group sessions, home support or overnight), in set shares."""
    n_night = max(1, round(NIGHT_PROVIDER_SHARE * m))
    n_group = max(1, round(GROUP_PROVIDER_SHARE * (m - n_night)))
    n_home = m - n_night - n_group
    kinds = np.array([_GROUP] * n_group + [_HOME] * n_home + [_NIGHT] * n_night, dtype=np.int64)
    return kinds[rng.permutation(m)]


def _bases(rng: np.random.Generator, geo: _Geography, kind: IntArray) -> IntArray:
    """Base district: by population, towns favoured; a few just over the border."""
    m = len(kind)
    council_w = geo.population[: geo.council] * np.where(geo.rural[: geo.council], 0.7, 1.0)
    base = _pick(rng, list(council_w), m)
    if len(geo.ids) - geo.council:
        outside = (rng.random(m) < NEIGHBOUR_BASED_SHARE) & (kind != _NIGHT)
        outside_base = geo.council + _pick(rng, list(geo.population[geo.council :]), m)
        base = np.where(outside, outside_base, base)
    else:
        rng.random(m)  # keep the stream the same shape whatever the settings
        rng.random(m)
    return base


def _services(rng: np.random.Generator, kind: IntArray) -> tuple[list[list[int]], BoolArray]:
    """Services from the kind's combinations, every lot offered by someone of a kind that
    offers it; and the providers × lots table of who offers what."""
    m = len(kind)
    group_combo = _pick(rng, [w for _, w in _GROUP_SERVICES], m)
    home_combo = _pick(rng, [w for _, w in _HOME_SERVICES], m)
    night_day = rng.random(m) < _NIGHT_ALSO_DAY_TIME
    services: list[list[int]] = []
    for p in range(m):
        if kind[p] == _GROUP:
            services.append(list(_GROUP_SERVICES[group_combo[p]][0]))
        elif kind[p] == _HOME:
            services.append(list(_HOME_SERVICES[home_combo[p]][0]))
        else:
            services.append([_L3, _L2A] if night_day[p] else [_L3])
    for fam, lots in _FAMILY_LOTS.items():
        members = np.flatnonzero(kind == fam).tolist()
        for lot_index in lots:
            if members and not any(lot_index in services[p] for p in members):
                services[members[0]].append(lot_index)
    offers = np.array([[lot_i in s for lot_i in range(len(LOTS))] for s in services])
    return services, offers


def _ratios(rng: np.random.Generator, kind: IntArray, offers: BoolArray) -> BoolArray:
    """Staff ratios consistent with the lots: groups 1:3 and 1:2, others 1:1 and often 2:1."""
    u = rng.random((len(kind), 4))
    ratios = np.zeros((len(kind), 4), dtype=np.bool_)
    group = kind == _GROUP
    ratios[:, 0] = group & (u[:, 0] < 0.95)
    ratios[:, 1] = group & ((u[:, 1] < 0.80) | ~ratios[:, 0])
    ratios[:, 2] = ~group | (u[:, 2] < 0.60)
    two_to_one = np.where(kind == _NIGHT, 0.80, np.where(offers[:, _L4], 0.95, 0.75))
    ratios[:, 3] = ~group & (u[:, 3] < two_to_one)
    return ratios


def _capabilities(rng: np.random.Generator, kind: IntArray, offers: BoolArray) -> BoolArray:
    """Capabilities by kind, with those the lots require (personal care for lot 2b and
    overnight, positive behaviour support for lot 4)."""
    caps = _correlated_draws(rng, _CAPABILITY_RATES[kind])
    caps[:, CAPABILITIES.index(Capability.PERSONAL_CARE)] |= offers[:, _L2B] | (kind == _NIGHT)
    caps[:, CAPABILITIES.index(Capability.POSITIVE_BEHAVIOUR_SUPPORT)] |= offers[:, _L4]
    return caps


def _ages(rng: np.random.Generator, table: list[tuple[int, float]], m: int) -> IntArray:
    """``m`` ages drawn from a table of (age, weight)."""
    return np.asarray([a for a, _ in table])[_pick(rng, [w for _, w in table], m)]


def _registrations(
    rng: np.random.Generator, kind: IntArray, personal_care: BoolArray
) -> tuple[list[list[RegisteredActivity]], IntArray, IntArray]:
    """Registrations by kind (a few overnight providers missing theirs), and the youngest
    and oldest ages each takes (overnight ones' come from their units later)."""
    m = len(kind)
    group_reg = _pick(rng, [w for *_, w in _GROUP_REGISTRATIONS], m)
    home_pc_reg = _pick(rng, [w for _, w in _HOME_PC_REGISTRATIONS], m)
    home_other_reg = _pick(rng, [w for _, w in _HOME_OTHER_REGISTRATIONS], m)
    night_missing = rng.random(m) < _NIGHT_MISSING_REGISTRATION
    home_min = _ages(rng, _HOME_MIN_AGE, m)
    home_max = _ages(rng, _HOME_MAX_AGE, m)
    group_max = _ages(rng, _GROUP_MAX_AGE, m)
    registrations: list[list[RegisteredActivity]] = []
    min_age = np.zeros(m, dtype=np.int64)
    max_age = np.zeros(m, dtype=np.int64)
    for p in range(m):
        if kind[p] == _GROUP:
            regs, youngest, _ = _GROUP_REGISTRATIONS[group_reg[p]]
            registrations.append(list(regs))
            min_age[p], max_age[p] = youngest, group_max[p]
        elif kind[p] == _HOME:
            if personal_care[p]:
                registrations.append(list(_HOME_PC_REGISTRATIONS[home_pc_reg[p]][0]))
            else:
                registrations.append(list(_HOME_OTHER_REGISTRATIONS[home_other_reg[p]][0]))
            min_age[p], max_age[p] = home_min[p], home_max[p]
        else:
            registrations.append(
                [] if night_missing[p] else [RegisteredActivity.OFSTED_CHILDRENS_HOME]
            )
    return registrations, min_age, max_age


@dataclass(frozen=True)
class _RatingDraws:
    """What the ratings are drawn from: per provider and regulator (at most two) a grade,
    whether safeguarding was judged and lower, and the rating's age; and the suspended
    providers (inadequate overall, or for safeguarding only, alternately)."""

    grade: IntArray
    judged: BoolArray
    lower: BoolArray
    rating_age: IntArray
    suspended_rank: dict[int, int]
    safeguarding_known: BoolArray

    @classmethod
    def draw(cls, rng: np.random.Generator, kind: IntArray, graded: BoolArray) -> _RatingDraws:
        """Mostly good; a few graded day providers suspended (inadequate)."""
        m = len(kind)
        grade = _pick(rng, _GRADE_WEIGHTS, m * 2).reshape(m, 2)
        judged = rng.random((m, 2)) < _SAFEGUARDING_JUDGED
        lower = rng.random((m, 2)) < _SAFEGUARDING_LOWER
        rating_age = np.floor(30 + (RATING_WINDOW_DAYS - 30) * rng.random((m, 2))).astype(np.int64)
        n_suspended = max(1, round(SUSPENDED_SHARE * m))
        candidates = graded & (kind != _NIGHT)
        suspended = _weighted_subset(
            rng, candidates.astype(np.float64), min(n_suspended, int(candidates.sum()))
        )
        suspended_rank = {int(p): r for r, p in enumerate(rng.permutation(suspended).tolist())}
        safeguarding_known = rng.random(m) < 0.5
        return cls(grade, judged, lower, rating_age, suspended_rank, safeguarding_known)

    def ratings(self, p: int, regulators: list[Regulator], plan: date) -> list[dict[str, Any]]:
        """Provider ``p``'s latest rating from each of its regulators."""
        ratings: list[dict[str, Any]] = []
        for j, regulator in enumerate(regulators[:2]):
            overall = _GRADES[self.grade[p, j]]
            safeguarding: Grade | None = None
            if self.judged[p, j]:
                safeguarding = overall
                if self.lower[p, j] and overall is not Grade.REQUIRES_IMPROVEMENT:
                    safeguarding = _GRADES[self.grade[p, j] + 1]
            if p in self.suspended_rank and j == 0:
                if self.suspended_rank[p] % 2 == 0:  # inadequate overall
                    overall = Grade.INADEQUATE
                    safeguarding = Grade.INADEQUATE if self.safeguarding_known[p] else None
                else:  # inadequate for safeguarding only
                    overall, safeguarding = Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE
            rating: dict[str, Any] = {
                "regulator": regulator,
                "overall": overall,
                "date": plan - timedelta(days=int(self.rating_age[p, j])),
            }
            if safeguarding is not None:
                rating["safeguarding"] = safeguarding
            ratings.append(rating)
        return ratings


def _contracts(
    rng: np.random.Generator, kind: IntArray, offers: BoolArray
) -> tuple[BoolArray, FloatArray, FloatArray]:
    """A share of providers off-list (Personal Care providers likelier), and each one's
    premium over the framework's hourly and nightly prices."""
    m = len(kind)
    weight = np.where(kind == _GROUP, 0.5, np.where((kind == _HOME) & offers[:, _L2B], 3.0, 1.0))
    n_off = max(1, round(OFF_LIST_SHARE * m))
    off_list = np.zeros(m, dtype=np.bool_)
    off_list[_weighted_subset(rng, weight, min(n_off, m))] = True
    lo, hi = SPOT_PREMIUM
    hourly_premium = lo + (hi - lo) * rng.random(m)
    night_premium = lo + (hi - lo) * rng.random(m)
    return off_list, hourly_premium, night_premium


@dataclass(frozen=True)
class _Fit:
    """What a provider can take, as arrays, for the planted assignment."""

    kind: IntArray
    base: IntArray
    offers: BoolArray  # providers x lots
    covers: BoolArray  # providers x places
    ratios: BoolArray  # providers x ratios
    caps: BoolArray  # providers x capabilities
    min_age: IntArray
    max_age: IntArray


def _plant(
    rng: np.random.Generator,
    settings: Settings,
    geo: _Geography,
    refs: _Referrals,
    fit: _Fit,
    size: FloatArray,
) -> IntArray:
    """For each day referral, one provider that could take it, chosen by size; -1 if none.

    "Could" means the structural rules only: offers the lot, covers the district, staffs
    the ratio, meets every need, and takes the child's age; capacity is then built around
    these planted placements. Larger providers (``size``) are chosen more often.
    """
    n = refs.lot.size
    u = rng.random(n)
    planted = np.full(n, -1, dtype=np.int64)
    cap_index = [CAPABILITIES.index(need.capability) for need in _NEED_ORDER]
    need_caps = np.zeros((n, len(CAPABILITIES)), dtype=np.bool_)
    for j, c in enumerate(cap_index):
        need_caps[:, c] |= refs.needs[:, j]
    need_bits = need_caps.astype(np.int64) @ (1 << np.arange(len(CAPABILITIES)))
    cap_bits = fit.caps.astype(np.int64) @ (1 << np.arange(len(CAPABILITIES)))
    plan = settings.planning_date
    age = (plan.year * 12 + plan.month - 1 - refs.birth) // 12  # at the planning date
    day = np.flatnonzero(refs.lot != _L3)
    keys = refs.lot[day] * len(geo.ids) + refs.place[day]
    for key in np.unique(keys).tolist():
        rows = day[keys == key]
        lot_index, place = divmod(key, len(geo.ids))
        cands = np.flatnonzero(fit.offers[:, lot_index] & fit.covers[:, place])
        if cands.size == 0:
            continue
        ok = fit.ratios[cands][:, refs.ratio[rows]].T
        ok &= (need_bits[rows][:, None] & ~cap_bits[cands][None, :]) == 0
        ok &= fit.min_age[cands][None, :] <= age[rows][:, None]
        ok &= age[rows][:, None] <= fit.max_age[cands][None, :]
        weights = ok * size[cands][None, :]
        total = weights.sum(axis=1)
        cdf = np.cumsum(weights, axis=1)
        pick = (cdf <= (u[rows] * total)[:, None]).sum(axis=1)
        chosen = cands[np.minimum(pick, cands.size - 1)]
        planted[rows] = np.where(total > 0, chosen, -1)
    return planted


def _add_staff_hours(
    rng: np.random.Generator,
    settings: Settings,
    geo: _Geography,
    refs: _Referrals,
    fit: _Fit,
    data: list[dict[str, Any]],
) -> IntArray:
    """Weekly free staff-hours per slot; returns the planted provider of each referral.

    In each slot, the day capacity is DAY_CAPACITY_RATIO times the staff-hours demanded
    (tilted by slot and by rural or town district, and jittered by slot). _PLANTED_SHARE of
    it goes to providers in proportion to the load of the children planted with them (see
    :func:`_plant`; travel from the provider's base included), so a provider's free hours
    come in lumps that fit whole visits, as real vacancies do. The rest is spread: each
    lot's demand in a district and slot is shared by size among the providers offering the
    lot, covering the district and working the slot (failing those, among those covering
    the district, failing those among all the lot's providers). A provider works a slot
    with a chance that grows with the demand for its own lots there, so a Personal Care
    agency works mornings and evenings and an activity club after school and at weekends.
    """
    kind, offers = fit.kind, fit.offers
    m, slot_ids = kind.size, [s.id for s in settings.time_slots]
    n_slots = len(slot_ids)
    demand = _day_demand(geo, refs)  # lots x places x slots
    tilt = np.where(_is_weekend(settings), _WEEKEND_TIGHTER, _WEEKDAY_LOOSER)
    noise = 1 + _SLOT_NOISE * (2 * rng.random(n_slots) - 1)
    place_tilt = np.where(geo.rural, _RURAL_TIGHTER, _TOWN_LOOSER)
    target = place_tilt[:, None] * (tilt * noise)[None, :]
    # The tilts move capacity between slots and places; the overall ratio stays the target.
    day_demand = demand[[_L1A, _L1B, _L2A, _L2B, _L4]].sum(axis=0)
    target *= DAY_CAPACITY_RATIO * day_demand.sum() / max((target * day_demand).sum(), 1e-12)
    # Pareto sizes: many small providers, a few large ones that can staff long 2:1 visits.
    # Overnight providers running Day Time sessions do so at half size.
    size = np.minimum((1.0 - rng.random(m)) ** (-1.0 / _SIZE_TAIL), _SIZE_CAP)
    size = np.where(kind == _NIGHT, 0.5 * size, size)
    work_u = rng.random((m, n_slots))
    round_u = rng.random((m, n_slots))
    covers = fit.covers.astype(np.float64)
    day_lots = [_L1A, _L1B, _L2A, _L2B, _L4]

    # Planted part: the load of each provider's planted children, in their slots.
    planted = _plant(rng, settings, geo, refs, fit, size)
    keep_u = rng.random(refs.lot.size)
    has = planted >= 0
    rows = np.flatnonzero(has)
    who = planted[rows]
    workers = _workers_per_visit()[refs.ratio[rows]]
    is_home = np.isin(refs.lot[rows], [LOTS.index(lot) for lot in HOME_LOTS])
    trip = np.where(is_home, 2 * geo.minutes[fit.base[who], refs.place[rows]] / 60 * workers, 0.0)
    hours_rows = refs.hours[rows]
    load = hours_rows * _staff_per_child()[refs.ratio[rows]][:, None]
    load += trip[:, None] * (hours_rows > 0)
    # Keep a random subset of the planted children, whole, sized to the planted share;
    # fewer in rural districts and more in towns, as the tilts say.
    lot_target = np.einsum("lds,ds->ls", demand, target)  # lots x slots
    keep_rate = min(1.0, _PLANTED_SHARE * lot_target.sum() / max(load.sum(), 1e-12))
    kept = keep_u[rows] < keep_rate * place_tilt[refs.place[rows]]
    hours = np.zeros((m, n_slots), dtype=np.float64)
    np.add.at(hours, who[kept], load[kept])
    kept_by_lot = np.zeros((len(LOTS), n_slots), dtype=np.float64)
    np.add.at(kept_by_lot, refs.lot[rows][kept], load[kept])
    # The spread part tops each lot up to its target in each slot.
    spread_share = np.clip(
        1.0
        - np.divide(kept_by_lot, lot_target, out=np.ones_like(lot_target), where=lot_target > 0),
        0.0,
        1.0,
    )

    # Spread part.
    own_demand = np.einsum(
        "pl,pd,lds->ps", offers[:, day_lots].astype(np.float64), covers, demand[day_lots]
    )
    peak = own_demand.max(axis=1, keepdims=True)
    relative = np.divide(own_demand, peak, out=np.zeros_like(own_demand), where=peak > 0)
    works = (own_demand > 0) & (work_u < _WORK_BASE + (1 - _WORK_BASE) * relative)
    busiest = np.argsort(-own_demand, axis=1, kind="stable")[:, :2]
    idle = np.flatnonzero(~works.any(axis=1) & (peak[:, 0] > 0))
    works[idle[:, None], busiest[idle]] = True  # a provider that drew no slot works two
    for lot_index in day_lots:
        members = np.flatnonzero(offers[:, lot_index])
        capacity = target * demand[lot_index] * spread_share[lot_index][None, :]
        sized = size[members]
        # weight[p, d, s]: provider p's claim on district d's capacity in slot s.
        weight = sized[:, None, None] * covers[members][:, :, None] * works[members][:, None, :]
        fallback = sized[:, None, None] * covers[members][:, :, None] * np.ones((1, 1, n_slots))
        weight = np.where((weight.sum(axis=0) == 0)[None], fallback, weight)
        anywhere = np.broadcast_to(sized[:, None, None], weight.shape)
        weight = np.where((weight.sum(axis=0) == 0)[None], anywhere, weight)
        weight /= weight.sum(axis=0, keepdims=True)
        hours[members] += np.einsum("pds,ds->ps", weight, capacity)
    # Unbiased rounding to half hours: a sliver of 0.1 h becomes 0.5 h one time in five,
    # so the totals keep their calibrated ratio however small each provider's share is.
    hours = np.minimum(np.floor(2 * hours + round_u) / 2, 168.0)
    # Workers on shift: a shift of 3 to 4.5 hours (by provider), at least one worker where
    # there are hours. Derived, not drawn, so the rest of the county stays as it was.
    shift = 3.0 + 0.5 * (np.arange(m) % 4)
    workers = np.where(hours > 0, np.maximum(1, np.ceil(hours / shift[:, None])), 0)
    for p in range(m):
        if offers[p, day_lots].any():
            data[p]["staff_hours"] = dict(zip(slot_ids, hours[p].tolist(), strict=True))
            data[p]["workers"] = {
                slot: int(n)
                for slot, n in zip(slot_ids, workers[p].tolist(), strict=True)
                if hours[p, slot_ids.index(slot)] > 0
            }
    return planted


def _add_units(
    rng: np.random.Generator,
    settings: Settings,
    refs: _Referrals,
    kind: IntArray,
    base: IntArray,
    geo: _Geography,
    off_list: BoolArray,
    night_premium: FloatArray,
    data: list[dict[str, Any]],
) -> None:
    """Overnight units: beds sized so bed-nights at target occupancy fall short of demand."""
    night = np.flatnonzero(kind == _NIGHT)
    if night.size == 0:
        return
    nights_demanded = float(refs.nights.sum())
    per_bed = _DAYS_PER_MONTH * _TARGET_OCCUPANCY
    target_beds = OVERNIGHT_CAPACITY_RATIO * nights_demanded / per_bed
    n_units = max(night.size, math.ceil(target_beds / 5))
    owner = np.concatenate(
        [night, night[_pick(rng, [1.0] * night.size, n_units - night.size)]]
    ).astype(np.int64)
    # Every unit has at least 2 beds; the beds left over go by skewed (exponential) weights,
    # so most units are small "home from home" settings and a few are 6-8-bed homes.
    spare = max(0.0, target_beds - _MIN_BEDS * n_units)
    props = (-np.log(np.maximum(1.0 - rng.random(n_units), 1e-300))) ** 1.5
    extra = np.floor(spare * props / props.sum() + rng.random(n_units))  # unbiased rounding
    beds = np.clip(_MIN_BEDS + extra, _MIN_BEDS, _MAX_BEDS)
    solo = _pick(rng, _SOLO_ROOMS, n_units)
    spec = _pick(rng, _SPECIALISM_WEIGHTS, n_units)
    spec2 = _pick(rng, _SPECIALISM_WEIGHTS, n_units)
    two = rng.random(n_units) < _TWO_SPECIALISMS
    six = rng.random(n_units) < _SIX_DAYS
    closed = _pick(rng, [1.0] * 7, n_units)
    unit_min = np.asarray([a for a, _ in _UNIT_MIN_AGE])[
        _pick(rng, [w for _, w in _UNIT_MIN_AGE], n_units)
    ]
    unit_max = np.asarray([a for a, _ in _UNIT_MAX_AGE])[
        _pick(rng, [w for _, w in _UNIT_MAX_AGE], n_units)
    ]
    names = rng.permutation(len(_PREFIXES) * len(_HOUSES))
    days = list(Weekday)
    order = np.argsort(owner, kind="stable")  # units numbered provider by provider
    for number, u in enumerate(order.tolist(), start=1):
        p = int(owner[u])
        unit: dict[str, Any] = {
            "id": f"U-{number:04d}",
            "name": _unit_name(int(names[u % names.size]), u // names.size),
            "district": geo.ids[int(base[p])],
            "beds": int(beds[u]),
            "solo_rooms": int(min(solo[u], beds[u])),
            "specialisms": sorted(
                {_SPECIALISMS[spec[u]], *([_SPECIALISMS[spec2[u]]] if two[u] else [])}
            ),
            "min_age": int(unit_min[u]),
            "max_age": int(unit_max[u]),
        }
        if six[u]:
            unit["open_days"] = [d for i, d in enumerate(days) if i != closed[u]]
        data[p].setdefault("units", []).append(unit)
    for p in night.tolist():
        units = data[p]["units"]
        data[p]["min_age"] = min(u["min_age"] for u in units)
        data[p]["max_age"] = max(u["max_age"] for u in units)
        if off_list[p]:
            data[p]["spot_night_rate"] = round(settings.night_rate * (1 + night_premium[p]), 2)


# --------------------------------------------------------------------------------------
# Family choice: current provider, preferences, refusals
# --------------------------------------------------------------------------------------


def _links(
    rng: np.random.Generator, geo: _Geography, refs: _Referrals, provs: _Providers
) -> tuple[list[int | None], list[list[int]], list[list[int]]]:
    """Current, preferred and refused providers, each a plausible one for the child.

    Plausible means offering the child's lot and covering the child's district (and, where
    possible, staffing the child's ratio): a family knows the providers that work near it.
    A current provider is the one the child's capacity was planted with, where there is one.
    """
    n = refs.lot.size
    candidates: dict[tuple[int, int], list[int]] = {}
    for p, (lots, districts) in enumerate(zip(provs.services, provs.districts, strict=True)):
        for lot_index in lots:
            for d in districts:
                candidates.setdefault((lot_index, d), []).append(p)
    ratio_ok = [{RATIOS.index(r) for r in data["ratios"]} for data in provs.data]
    has_current = rng.random(n) < CURRENT_PROVIDER_SHARE
    has_pref = rng.random(n) < PREFERENCE_SHARE
    two_prefs = rng.random(n) < 0.30
    has_refusal = rng.random(n) < REFUSAL_SHARE
    picks = rng.random((n, 4))

    def pick(pool: list[int], u: float) -> int:
        return pool[min(int(u * len(pool)), len(pool) - 1)]

    current: list[int | None] = [None] * n
    preferred: list[list[int]] = [[] for _ in range(n)]
    refused: list[list[int]] = [[] for _ in range(n)]
    wanted = np.flatnonzero(
        (has_current | has_pref | has_refusal) & (refs.place < geo.council)
    ).tolist()
    for i in wanted:
        pool = candidates.get((int(refs.lot[i]), int(refs.place[i])), [])
        if not pool:
            continue
        fitting = [p for p in pool if int(refs.ratio[i]) in ratio_ok[p]] or pool
        if has_current[i]:
            # The provider the child's capacity was planted with is the one already
            # serving them (its free hours include theirs); otherwise any fitting one.
            planted = int(provs.planted[i])
            current[i] = planted if planted >= 0 else pick(fitting, picks[i, 0])
        if has_pref[i]:
            first = pick(fitting, picks[i, 1])
            preferred[i].append(first)
            rest = [p for p in fitting if p != first]
            if two_prefs[i] and rest:
                preferred[i].append(pick(rest, picks[i, 2]))
        if has_refusal[i]:
            rest = [p for p in pool if p != current[i] and p not in preferred[i]]
            if rest:
                refused[i].append(pick(rest, picks[i, 3]))
    return current, preferred, refused


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------


def _referral_documents(
    settings: Settings,
    geo: _Geography,
    refs: _Referrals,
    provider_ids: list[str],
    links: tuple[list[int | None], list[list[int]], list[list[int]]],
) -> list[dict[str, Any]]:
    current, preferred, refused = links
    n = refs.lot.size
    width = max(5, len(str(n)))
    slot_ids = [s.id for s in settings.time_slots]
    flag_names = ["looked_after", "residential_school", "existing_short_break_plan",
                  "school_short_breaks"]  # fmt: skip
    lot, ratio, place = refs.lot.tolist(), refs.ratio.tolist(), refs.place.tolist()
    birth, nights = refs.birth.tolist(), refs.nights.tolist()
    ref_day, start_day = refs.referral_day.tolist(), refs.start_day.tolist()
    extension, flags = refs.extension.tolist(), refs.flags.tolist()
    needs, priority = refs.needs.tolist(), refs.priority.tolist()
    hours = refs.hours.tolist()
    docs: list[dict[str, Any]] = []
    for i in range(n):
        doc: dict[str, Any] = {
            "id": f"R-{i + 1:0{width}d}",
            "service": LOTS[lot[i]],
            "home_district": geo.ids[place[i]],
            "birth_month": f"{birth[i] // 12:04d}-{birth[i] % 12 + 1:02d}",
            "staff_ratio": RATIOS[ratio[i]],
            "needs": [need for need, has in zip(_NEED_ORDER, needs[i], strict=True) if has],
            "priority": [f for f, has in zip(PRIORITIES, priority[i], strict=True) if has],
            "referral_date": date.fromordinal(ref_day[i]),
            "planned_start_date": date.fromordinal(start_day[i]),
        }
        if lot[i] == _L3:
            doc["nights_per_month"] = nights[i]
        else:
            doc["hours"] = {s: h for s, h in zip(slot_ids, hours[i], strict=True) if h > 0}
        for name, value in zip(flag_names, flags[i], strict=True):
            if value:
                doc[name] = True
        if extension[i]:
            doc["extension_agreed"] = True
        if refused[i]:
            doc["refused_provider_ids"] = [provider_ids[p] for p in refused[i]]
        if preferred[i]:
            doc["preferred_provider_ids"] = [provider_ids[p] for p in preferred[i]]
        cur = current[i]
        if cur is not None:
            doc["current_provider_id"] = provider_ids[cur]
        docs.append(doc)
    return docs


def _cover_existing_placements(
    settings: Settings,
    geo: _Geography,
    refs: _Referrals,
    provs: _Providers,
    current: list[int | None],
) -> None:
    """Raise staff-hours so each provider's capacity covers the placements it already has.

    A child placed with a provider is being served there now, so the register's staff-hours
    must hold them: in every slot, at least the staff-hours its existing day placements
    take (care × staff per child, plus the workers' trip for services at home, as in
    matcher.rules.consumption), rounded up to the half hour. Most providers have that
    already; this tops up the few whose planted share fell short.
    """
    slot_ids = [s.id for s in settings.time_slots]
    home_lots = {LOTS.index(lot) for lot in HOME_LOTS}
    committed = np.zeros((len(provs.data), len(slot_ids)), dtype=np.float64)
    sixths = np.zeros((len(provs.data), len(slot_ids)), dtype=np.int64)
    for i, p in enumerate(current):
        lot = int(refs.lot[i])
        if p is None or lot == _L3:
            continue
        ratio = int(refs.ratio[i])
        trip = 0.0
        if lot in home_lots:
            minutes = geo.minutes[provs.base[p], refs.place[i]]
            trip = 2 * minutes / 60 * _workers_per_visit()[ratio]
        asked = refs.hours[i] > 0
        committed[p] += np.where(asked, refs.hours[i] * _staff_per_child()[ratio] + trip, 0.0)
        sixths[p] += np.where(asked, round(6 * _staff_per_child()[ratio]), 0)
    for p in np.flatnonzero(committed.sum(axis=1) > 0).tolist():
        offered = provs.data[p].setdefault("staff_hours", {})
        workers = provs.data[p].setdefault("workers", {})
        for s, need in enumerate(committed[p].tolist()):
            if need > offered.get(slot_ids[s], 0.0):
                offered[slot_ids[s]] = min(168.0, math.ceil(2 * need - 1e-9) / 2)
            if slot_ids[s] in workers:
                workers[slot_ids[s]] = max(workers[slot_ids[s]], math.ceil(sixths[p, s] / 6))


def generate_document(
    referrals: int,
    providers: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The instance :func:`generate` builds, as plain data not yet validated.

    Values are Python objects (enums, dates) that :meth:`Instance.build` accepts.
    """
    if referrals < 1:
        raise ValueError("referrals must be at least 1")
    m = default_provider_count(referrals) if providers is None else providers
    if m < 3:
        raise ValueError("providers must be at least 3 (one group, one home, one overnight)")
    settings = lancashire.settings() if settings is None else settings
    geo = _geography(settings)
    referral_rng, provider_rng, link_rng = np.random.default_rng(seed).spawn(3)
    refs = _sample_referrals(referral_rng, referrals, settings, geo)
    provs = _sample_providers(provider_rng, m, settings, geo, refs)
    links = _links(link_rng, geo, refs, provs)
    _cover_existing_placements(settings, geo, refs, provs, links[0])
    provider_ids = [d["id"] for d in provs.data]
    return {
        "settings": settings,
        "providers": provs.data,
        "referrals": _referral_documents(settings, geo, refs, provider_ids, links),
    }


def generate(
    referrals: int,
    providers: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
) -> Instance:
    """A realistic instance of ``referrals`` children and ``providers`` providers.

    ``providers`` defaults to :func:`default_provider_count`; ``settings`` to
    :func:`matcher.counties.lancashire.settings`. The same arguments always give the same instance.
    See the module docstring for how every attribute is calibrated.
    """
    return Instance.build(generate_document(referrals, providers, seed, settings))


# --------------------------------------------------------------------------------------
# Calibration check
# --------------------------------------------------------------------------------------


def calibration_summary(instance: Instance) -> dict[str, float]:
    """Figures to check an instance against the calibration (any instance, not just ours).

    Day demand is care hours times staff per child, plus, for services at home, the
    workers' round trip at the within-district travel time (the least any provider needs).
    Day capacity is the providers' weekly staff-hours; the group family (lots 1a/1b) and
    the home family (lots 2a/2b/4) are also given apart. Bed-nights available are beds
    times open nights a month at the unit's target occupancy.
    """
    settings = instance.settings
    refs = instance.referrals
    n = max(len(refs), 1)
    out: dict[str, float] = {"referrals": len(refs), "providers": len(instance.providers)}
    for lot in LOTS:
        out[f"share_lot_{lot.value}"] = sum(r.service is lot for r in refs) / n
    out["share_two_to_one"] = sum(r.staff_ratio is StaffRatio.TWO_TO_ONE for r in refs) / n
    council = instance.council_district_ids
    out["share_outside_council"] = sum(r.home_district not in council for r in refs) / n
    for need in Need:
        out[f"share_need_{need.value}"] = sum(need in r.needs for r in refs) / n
    for factor in PriorityFactor:
        out[f"share_priority_{factor.value}"] = sum(factor in r.priority for r in refs) / n
    out["share_no_priority"] = sum(not r.priority for r in refs) / n

    demand = {"group": 0.0, "home": 0.0}
    nights = 0.0
    for r in refs:
        if r.service.is_overnight:
            nights += r.nights_per_month
            continue
        family = "group" if r.service.is_break_time else "home"
        care = r.weekly_hours * r.staff_ratio.staff_per_child
        visits = sum(1 for h in r.hours.values() if h > 0)
        travel = 0.0
        if r.service in HOME_LOTS:
            workers = max(1, math.ceil(r.staff_ratio.staff_per_child))
            own = settings.travel_minutes[r.home_district][r.home_district]
            travel = visits * 2 * own / 60 * workers
        demand[family] += care + travel
    capacity = {"group": 0.0, "home": 0.0}
    beds = 0.0
    for p in instance.providers:
        services = set(p.services)
        if services & {Lot.BREAK_TIME, Lot.BREAK_TIME_PLUS}:
            capacity["group"] += sum(p.staff_hours.values())
        elif services & {Lot.DAY_TIME, Lot.PERSONAL_CARE, Lot.INTENSIVE_PBS}:
            capacity["home"] += sum(p.staff_hours.values())
        for u in p.units:
            beds += u.beds * len(u.open_days) / 7 * _DAYS_PER_MONTH * u.target_occupancy

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else math.inf

    for family in ("group", "home"):
        out[f"{family}_demand_staff_hours"] = demand[family]
        out[f"{family}_capacity_staff_hours"] = capacity[family]
        out[f"{family}_capacity_ratio"] = ratio(capacity[family], demand[family])
    out["day_demand_staff_hours"] = sum(demand.values())
    out["day_capacity_staff_hours"] = sum(capacity.values())
    out["day_capacity_ratio"] = ratio(sum(capacity.values()), sum(demand.values()))
    out["overnight_demand_bed_nights"] = nights
    out["overnight_capacity_bed_nights"] = beds
    out["overnight_capacity_ratio"] = ratio(beds, nights)
    providers = instance.providers
    m = max(len(providers), 1)
    out["share_providers_off_list"] = sum(p.contract is Contract.OFF_LIST for p in providers) / m
    out["share_providers_suspended"] = sum(p.suspended for p in providers) / m
    out["share_providers_overnight"] = sum(bool(p.units) for p in providers) / m
    out["providers_suspended"] = sum(p.suspended for p in providers)
    out["providers_off_list"] = sum(p.contract is Contract.OFF_LIST for p in providers)
    return out
