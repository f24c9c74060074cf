"""The domain model: validation with field paths, cross-references, lookups, file I/O."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.formats.files import load_instance, save_instance
from matcher.model import Instance, Provider, Referral
from matcher.rules.eligibility import provider_arrays
from tests import factories as f


def problems(exc: InputError) -> list[str]:
    return [str(p) for p in exc.problems]


def document(**changes: object) -> dict[str, object]:
    inst = f.instance()
    data = json.loads(inst.model_dump_json())
    data.update(changes)
    return data


def test_importing_the_model_and_rules_never_imports_ortools() -> None:
    # The model must stay cheap to import for the command line and the service.
    code = (
        "import sys, matcher.model, matcher.rules, matcher.ranking, matcher.formats.files;"
        "import matcher.register.store;"
        "print('ortools' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_fields_are_rejected_with_their_path() -> None:
    data = document()
    data["referrals"][0]["name"] = "someone"  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    assert problems(caught.value) == ["referrals[0].name: Extra inputs are not permitted"]


def test_unknown_district_names_the_path() -> None:
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(home_district="atlantis")])
    assert problems(caught.value) == [
        "referrals[0] (R-0001).home_district: not a district or neighbouring area of the council"
    ]


def test_refusal_of_unknown_provider_names_the_path() -> None:
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(refused_provider_ids=["P-404"])])
    assert problems(caught.value) == [
        "referrals[0] (R-0001).refused_provider_ids: unknown provider 'P-404'"
    ]


def test_duplicate_ids_are_reported() -> None:
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(), f.referral()], providers=[f.provider(), f.provider()])
    found = problems(caught.value)
    assert "providers[1].id: duplicate provider id 'P-1' (first at [0])" in found
    assert "referrals[1].id: duplicate referral id 'R-0001' (first at [0])" in found


def test_negative_capacity_is_rejected_with_its_path() -> None:
    data = document()
    data["providers"][0]["staff_hours"]["sat_morning"] = -4  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    assert problems(caught.value) == [
        "providers[0].staff_hours.sat_morning: Input should be greater than or equal to 0"
    ]


def test_negative_beds_are_rejected() -> None:
    data = json.loads(f.instance(providers=[f.overnight_provider()]).model_dump_json())
    data["providers"][0]["units"][0]["beds"] = -1
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    assert problems(caught.value)[0].startswith("providers[0].units[0].beds:")


def test_errors_never_echo_a_childs_values() -> None:
    # Children's data: a malformed birth month is named by its field, never quoted.
    data = document()
    data["referrals"][0]["birth_month"] = "2015-13-07"  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    assert "2015-13-07" not in caught.value.render()
    assert problems(caught.value) == ["referrals[0].birth_month: expected a month written YYYY-MM"]


def test_a_name_is_not_accepted_as_a_child_identifier() -> None:
    with pytest.raises(ValueError, match="pseudonymous"):
        f.referral(id="Jessica")


def test_referral_consistency() -> None:
    with pytest.raises(ValueError, match="before referral_date"):
        f.referral(referral_date="2026-06-01", planned_start_date="2026-05-01")
    with pytest.raises(ValueError, match="nights_per_month"):
        f.referral(service="3", hours={}, nights_per_month=0)
    with pytest.raises(ValueError, match="hours in at least one"):
        f.referral(hours={})
    with pytest.raises(ValueError, match="both refused and preferred"):
        f.referral(refused_provider_ids=["P-1"], preferred_provider_ids=["P-1"])


def test_provider_consistency() -> None:
    with pytest.raises(ValueError, match="spot_hourly_rate"):
        f.provider(contract="off_list")
    with pytest.raises(ValueError, match="framework provider"):
        f.provider(spot_hourly_rate=30.0)
    with pytest.raises(ValueError, match="spot_night_rate"):
        f.overnight_provider(contract="off_list", spot_hourly_rate=30.0)
    with pytest.raises(ValueError, match="latest rating for each regulator"):
        f.provider(
            ratings=[
                {"regulator": "cqc", "overall": "good", "date": "2024-01-01"},
                {"regulator": "cqc", "overall": "inadequate", "date": "2025-01-01"},
            ]
        )


def test_set_like_fields_are_sorted_and_deduplicated() -> None:
    referral = f.referral(needs=["autism", "personal_care", "autism"])
    assert [n.value for n in referral.needs] == ["autism", "personal_care"]


def test_hourly_rate_uplift_applies_per_full_year() -> None:
    settings = f.settings()  # £24.50 from 1 April 2026, 3 % a year
    assert settings.hourly_rate_on(date(2027, 3, 31)) == pytest.approx(24.50)
    assert settings.hourly_rate_on(date(2027, 4, 1)) == pytest.approx(24.50 * 1.03)
    assert settings.hourly_rate_on(date(2029, 4, 1)) == pytest.approx(24.50 * 1.03**3)


def test_lookups_are_precomputed() -> None:
    inst = f.instance(providers=[f.provider(), f.overnight_provider()])
    assert inst.provider_index == {"P-1": 0, "P-9": 1}
    assert inst.referral("R-0001").id == "R-0001"
    assert inst.place_index["blackpool"] == len(inst.settings.districts)
    assert "blackpool" not in inst.council_district_ids
    with pytest.raises(InputError, match="no referral with id 'R-9'"):
        inst.referral("R-9")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_instance_files_round_trip(tmp_path: Path, suffix: str) -> None:
    inst = f.instance(providers=[f.provider(), f.overnight_provider()])
    path = tmp_path / f"instance{suffix}"
    save_instance(inst, path)
    assert load_instance(path) == inst


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"settings": {}, "providers": [')
    with pytest.raises(InputError, match=r"broken.json, line 1, column \d+: not valid JSON"):
        load_instance(path)
    path = tmp_path / "bad.yaml"
    data = json.loads(f.instance().model_dump_json())
    data["referrals"][0]["home_district"] = "nowhere"
    import yaml

    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as caught:
        load_instance(path)
    assert caught.value.render().startswith(f"{path}: referrals[0] (R-0001).home_district")


def test_save_refuses_unknown_suffix_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"expected a \.json, \.yaml or \.yml file"):
        save_instance(f.instance(), tmp_path / "instance.txt")
    assert list(tmp_path.iterdir()) == []


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A failure while writing leaves the old file untouched and no temporary file behind.
    path = tmp_path / "instance.json"
    path.write_text("previous contents")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("matcher.formats.files.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_instance(f.instance(), path)
    assert path.read_text() == "previous contents"
    assert [p.name for p in tmp_path.iterdir()] == ["instance.json"]


def test_records_are_immutable() -> None:
    referral: Referral = f.referral()
    provider: Provider = f.provider()
    with pytest.raises(ValueError):
        referral.home_district = "wyre"  # type: ignore[misc]
    with pytest.raises(ValueError):
        provider.name = "x"  # type: ignore[misc]


def test_a_changed_copy_is_validated_and_has_its_own_lookups() -> None:
    from matcher.rules.eligibility import provider_arrays

    inst = f.instance()
    provider_arrays(inst)  # fill the original's cache
    copy = inst.model_copy(update={"providers": [f.provider(), f.overnight_provider()]})
    assert copy.provider_index == {"P-1": 0, "P-9": 1}
    assert provider_arrays(copy).services.shape == (2,)
    assert provider_arrays(inst).services.shape == (1,)
    with pytest.raises(InputError, match="duplicate provider id"):
        inst.model_copy(update={"providers": [f.provider(), f.provider()]})


def test_a_referrals_unknown_district_is_not_quoted() -> None:
    # A postcode typed where a district belongs is the child's data: never repeated back.
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(home_district="PR1-2AB")])
    assert "PR1-2AB" not in caught.value.render()
    assert problems(caught.value) == [
        "referrals[0] (R-0001).home_district: not a district or neighbouring area of the council"
    ]


def test_youngest_age_is_never_negative() -> None:
    from matcher.model import youngest_age_on

    # Born in the planning month: the child may be 0 but not -1.
    assert youngest_age_on((2026, 11), date(2026, 11, 2)) == 0


def test_a_provider_may_offer_more_staff_hours_than_a_week_has() -> None:
    # Many workers: 50 staff × 4 hours on Saturday morning is 200 staff-hours.
    assert f.provider(staff_hours={"sat_morning": 200}).staff_hours["sat_morning"] == 200


# ----- strict input (numbers, yes/no, repeats, impossible birth months) -----------------


@pytest.mark.parametrize(
    ("where", "field", "value", "message"),
    [
        ("referrals", ("hours", "sat_morning"), "10", "must be a number"),
        ("referrals", ("hours", "sat_morning"), True, "must be a number"),
        ("providers", ("staff_hours", "sat_morning"), "20", "must be a number"),
        ("providers", ("staff_hours", "sat_morning"), True, "must be a number"),
        ("referrals", ("looked_after",), "true", "must be true or false"),
        ("referrals", ("looked_after",), 1, "must be true or false"),
        ("providers", ("max_age",), "18", "must be a whole number"),
        ("providers", ("max_age",), 17.5, "must be a whole number"),
        ("referrals", ("break_time_hours_used",), "5", "must be a number"),
    ],
)
def test_numbers_and_yes_no_are_strict(
    where: str, field: tuple[str, ...], value: object, message: str
) -> None:
    data = document()
    record = data[where][0]  # type: ignore[index]
    target = record
    for part in field[:-1]:
        target = target[part]
    target[field[-1]] = value
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    [problem] = problems(caught.value)
    assert problem.startswith(f"{where}[0].{'.'.join(field)}: {message}")
    if where == "referrals":
        assert repr(value) not in problem


def test_a_whole_number_is_a_number() -> None:
    data = document()
    data["referrals"][0]["hours"] = {"sat_morning": 3}  # type: ignore[index]
    assert Instance.build(data).referrals[0].hours == {"sat_morning": 3.0}


def test_a_unit_listed_twice_by_one_provider_is_an_error() -> None:
    data = document()
    provider = f.overnight_provider().model_dump(mode="json")
    provider["units"] = provider["units"] * 2
    data["providers"] = [*data["providers"], provider]  # type: ignore[list-item]
    with pytest.raises(InputError) as caught:
        Instance.build(data)
    assert problems(caught.value) == ["providers[1]: units: 'U-1' listed more than once"]


def test_a_referral_incompatible_with_itself_is_an_error() -> None:
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(incompatible_with=["R-0001"])])
    assert problems(caught.value) == [
        "referrals[0] (R-0001).incompatible_with: lists the referral itself"
    ]


@pytest.mark.parametrize("born", ["1800-01", "2000-06"])
def test_a_birth_month_more_than_25_years_before_the_referral_is_an_error(born: str) -> None:
    # The default referral date is 2026-06: born 2000-06 or earlier, 26 or more when referred.
    with pytest.raises(InputError) as caught:
        f.instance(referrals=[f.referral(birth_month=born)])
    [problem] = problems(caught.value)
    assert problem.startswith("referrals[0] (R-0001).birth_month: is more than 25 years before")
    assert born not in problem


def test_a_young_person_of_25_may_be_referred() -> None:
    assert f.instance(referrals=[f.referral(birth_month="2000-07")]).referrals[0]


def test_what_the_rules_derive_is_kept_with_the_instance_and_a_changed_copy_starts_afresh() -> None:
    instance = f.instance()
    arrays = provider_arrays(instance)
    assert provider_arrays(instance) is arrays  # computed once, kept with the instance
    copy = instance.model_copy(update={"referrals": [f.referral(id="R-0002")]})
    assert provider_arrays(copy) is not arrays  # the copy's own, made when first asked
    assert provider_arrays(copy) is provider_arrays(copy)
