"""Request bodies: datetimes where the API takes times, and errors in the API's own terms."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from losant_fluent import API, BodyValidationError
from losant_fluent.models import DevicePost
from losant_fluent.models._registry import validate_body
from losant_fluent.testing import Emulator

WHEN = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
WHEN_MS = 1714564800123


def refused(schema: str, body: object) -> BodyValidationError:
    with pytest.raises(BodyValidationError) as caught:
        validate_body(schema, body)
    return caught.value


# -- datetimes ----------------------------------------------------------------------------


def test_datetime_at_a_time_string_or_number_position_is_sent_as_iso() -> None:
    body = {"time": WHEN, "data": {"temperature": 1}}
    assert validate_body("deviceStateOrStates", body) == {
        "time": "2024-05-01T12:00:00.123Z",
        "data": {"temperature": 1},
    }
    states = [{"time": WHEN + timedelta(seconds=i), "data": {"t": i}} for i in range(2)]
    sent = validate_body("deviceStateOrStates", states)
    assert [s["time"] for s in sent] == ["2024-05-01T12:00:00.123Z", "2024-05-01T12:00:01.123Z"]


def test_datetime_at_a_number_time_position_is_sent_as_epoch_ms() -> None:
    body = {"start": WHEN - timedelta(hours=1), "end": WHEN, "attributes": ["t"]}
    assert validate_body("timeSeriesQuery", body) == {
        "start": WHEN_MS - 3_600_000,
        "end": WHEN_MS,
        "attributes": ["t"],
    }
    assert validate_body("lastValueQuery", {"end": WHEN}) == {"end": WHEN_MS}


def test_datetime_in_advanced_query_operators() -> None:
    # These positions take a string or a number: the string form is sent.
    body = {"deviceQuery": {"creationDate": {"$gt": WHEN}}, "attributes": ["t"]}
    sent = validate_body("timeSeriesQuery", body)
    assert sent["deviceQuery"] == {"creationDate": {"$gt": "2024-05-01T12:00:00.123Z"}}


def test_other_timezones_are_converted_to_utc() -> None:
    plus_two = WHEN.astimezone(timezone(timedelta(hours=2)))
    sent = validate_body("deviceStateOrStates", {"time": plus_two, "data": {"t": 1}})
    assert sent["time"] == "2024-05-01T12:00:00.123Z"


def test_naive_datetime_is_refused_naming_the_field() -> None:
    error = refused("deviceStateOrStates", {"time": datetime(2024, 5, 1), "data": {"t": 1}})
    assert isinstance(error, ValueError)
    assert error.errors[0][0] == "time"
    assert "body.time: datetime 2024-05-01T00:00:00 has no timezone" in str(error)
    assert "timezone.utc" in str(error)
    error = refused("timeSeriesQuery", {"end": datetime(2024, 5, 1)})
    assert error.errors[0][0] == "end"


def test_datetime_where_no_time_is_taken_is_refused() -> None:
    error = refused("devicePost", {"name": "x", "systemInterval": WHEN})
    assert error.errors == [("systemInterval", "takes a number, not a datetime")]


def test_model_bodies_with_datetimes() -> None:
    from losant_fluent.models import TimeSeriesQuery

    query = TimeSeriesQuery.model_construct(start=WHEN, end=WHEN)  # type: ignore[call-arg]
    assert validate_body("timeSeriesQuery", query) == {"start": WHEN_MS, "end": WHEN_MS}


def test_datetime_state_reaches_the_emulator_and_comes_back(emulator: Emulator) -> None:
    with API(url=emulator.url, token=emulator.user_token()) as api:
        device = api.applications(emulator.application_id).devices(emulator.device_id)
        device.state().post({"time": WHEN, "data": {"temperature": 21.5}})
        read = device.state().get(limit=1)
        # A datetime, as every other time (was the string "2024-05-01T12:00:00.123Z").
        assert read[0].time == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
        assert read[0].data == {"temperature": 21.5}
        device.state().post({"time": read[0].time, "data": {"temperature": 21.5}})
        # A time read from the API goes straight back.
        last = (
            api.applications(emulator.application_id)
            .data()
            .last_value_query()
            .post({"deviceIds": [emulator.device_id], "end": WHEN + timedelta(seconds=1)})
        )
        got = last[emulator.device_id].time
        assert got == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
        device.state().post({"time": got, "data": {"temperature": 22}})


# -- other Python values ---------------------------------------------------------------


def test_decimal_becomes_a_number_and_nan_is_refused() -> None:
    sent = validate_body("deviceStateOrStates", {"data": {"t": Decimal("21.5")}})
    assert sent == {"data": {"t": 21.5}}
    error = refused("deviceStateOrStates", {"data": {"t": math.nan}})
    assert error.errors == [("data.t", "nan has no JSON form (only finite numbers do)")]
    error = refused("deviceStateOrStates", {"data": {"t": Decimal("NaN")}})
    assert error.errors[0][0] == "data.t"
    error = refused("devicePost", {"name": "x", "tags": {("k", "v")}})
    assert error.errors[0][0] == "tags" and "set" in error.errors[0][1]


def test_a_json_ready_body_is_returned_as_it_is() -> None:
    body = {"name": "Sensor", "deviceClass": "standalone"}
    assert validate_body("devicePost", body) is body
    assert validate_body("devicePost", DevicePost(name="x")) == {"name": "x"}


# -- error messages ----------------------------------------------------------------------


def test_missing_enum_field_lists_the_allowed_values() -> None:
    error = refused(
        "dataTablePost", {"name": "t", "columns": [{"name": "a", "dataType": "string"}]}
    )
    assert error.errors == [
        ("columns[0].constraint", "Field required: one of 'unique', 'required', 'optional'")
    ]
    assert "body.columns[0].constraint: Field required: one of 'unique'" in str(error)


def test_bad_enum_value_lists_the_allowed_values_at_the_api_path() -> None:
    attributes = [{"name": n, "dataType": "number"} for n in ("a", "b")]
    attributes.append({"name": "c", "dataType": "complex"})
    error = refused("devicePost", {"name": "x", "attributes": attributes})
    assert error.errors == [
        (
            "attributes[2].dataType",
            "must be one of 'string', 'number', 'gps', 'boolean', 'blob' (got 'complex')",
        )
    ]


def test_union_bodies_report_the_closest_shape_only() -> None:
    error = refused("deviceStateOrStates", {"data": {"temperature": [1]}})
    assert error.errors == [
        ("data.temperature", "must be a number, a string or a boolean (got a list)")
    ]
    text = str(error)
    for internal in ("DeviceStateOrStatesModel", "list[", "function-after", ".str"):
        assert internal not in text
    error = refused("deviceStateOrStates", [{"data": {"t": 1}}, {"time": 5}])
    assert error.errors == [("[1].data", "Field required")]
    assert str(error) == "invalid request body: body[1].data: Field required"


def test_scalar_unions_merge_their_allowed_values() -> None:
    error = refused("timeSeriesQuery", {"aggregation": "AVG"})
    assert error.errors == [
        (
            "aggregation",
            "must be one of 'FIRST', 'LAST', 'COUNT', 'MAX', 'MIN', 'MEDIAN', 'MEAN', 'SUM', "
            "'STD_DEV', 'NONE' or an object (got 'AVG')",
        )
    ]


def test_unknown_and_python_named_keys() -> None:
    error = refused("devicePost", {"name": "x", "tags": [{"key": "k", "value": "v", "c": 1}]})
    assert error.errors == [("tags[0].c", "unknown key; this object takes: key, value")]
    error = refused("devicePost", {"name": "x", "device_class": "gateway"})
    assert error.errors == [("device_class", "use the API name 'deviceClass'")]
    error = refused("deviceStateOrStates", {"dat": {"t": 1}})
    assert error.errors == [
        ("data", "Field required"),
        ("dat", "unknown key; this object takes: data, flowVersion, meta, time"),
    ]


def test_odd_keys_and_patterns() -> None:
    error = refused("deviceStateOrStates", {"data": {"bad key!": 1}})
    assert error.errors == [
        ('data["bad key!"]', "this key is not allowed: keys must match ^[0-9a-zA-Z_-]{1,255}$")
    ]
    error = refused("devicePost", {"name": "x", "tags": [{"key": "bad key!", "value": "v"}]})
    assert error.errors == [("tags[0].key", "must match ^[0-9a-zA-Z_-]{1,255}$ (got 'bad key!')")]
    error = refused("advancedQuery", {"$or": [{"bad key!": 1}]})
    assert error.errors[0][0] == '$or[0]["bad key!"]'


def test_wrong_body_type() -> None:
    error = refused("devicePost", [])
    assert error.errors == [("", "must be an object (got a list)")]
    assert str(error) == "invalid request body: body: must be an object (got a list)"


def test_through_the_client_nothing_is_sent(emulator: Emulator) -> None:
    with API(url=emulator.url, token=emulator.user_token()) as api:
        tables = api.applications(emulator.application_id).data_tables()
        with pytest.raises(BodyValidationError, match=r"body\.columns\[0\]\.constraint"):
            tables.post({"name": "t", "columns": [{"name": "a", "dataType": "string"}]})
        assert len(tables.get()) == 0
