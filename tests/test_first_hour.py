"""What a newcomer meets in a first hour: displays, hints, messages, signatures (issue 24)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from losant_fluent.models import Devices, TimeSeriesData
from losant_fluent.models._registry import parse_response


def time_series(points: int) -> TimeSeriesData:
    start = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000
    body: dict[str, Any] = {
        "start": "2024-05-01T12:00:00.000Z",
        "end": "2024-05-01T13:00:00.000Z",
        "resolution": 60000,
        "aggregation": "MEAN",
        "limit": 1000,
        "order": "asc",
        "devices": {
            "a" * 24: {
                "name": "Thermostat",
                "tags": {"floor": ["1"]},
                "points": [
                    {
                        "time": datetime.fromtimestamp(
                            (start + i * 60000) / 1000, timezone.utc
                        ).isoformat(),
                        "data": {"temperature": 20.5 + i},
                    }
                    for i in range(points)
                ],
            }
        },
    }
    return TimeSeriesData.model_validate(body)


# -- 6. time-series points are shown ---------------------------------------------------------


def test_time_series_points_show_their_time_and_data() -> None:
    series = time_series(7)
    text = repr(series)
    assert "[...7 items]" not in text
    assert "time=2024-05-01T12:00:00.000Z" in text and "'temperature': 20.5" in text
    assert "... 2 more" in text  # five points, then the count of the rest
    assert "'temperature': 26.5" in str(series)  # str: all seven
    html = series._repr_html_()
    assert "TimeSeriesDataDevices(...)" not in html
    assert "2024-05-01T12:00:00.000Z" in html and "&#x27;temperature&#x27;: 20.5" in html


def test_a_long_page_stays_bounded_with_points() -> None:
    page = parse_response(
        "devices",
        {"items": [{"name": f"d{i}"} for i in range(61)], "count": 61, "totalCount": 61},
        None,
    )
    assert isinstance(page, Devices)
    html = page._repr_html_()
    assert "... 1 more rows (first 60 of 61 shown)" in html
