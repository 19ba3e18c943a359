"""Identifiers and timestamps shaped like Losant's (24-hex ids, ISO-8601 UTC times)."""

from __future__ import annotations

import math
import os
import re
import secrets
import time
from datetime import timezone
from email.utils import parsedate_to_datetime

_counter = int.from_bytes(os.urandom(3), "big")
_process = secrets.token_hex(5)  # like an ObjectId's per-process random part


def new_id() -> str:
    """A fresh 24-hex-character id that sorts after every id made before it (a MongoDB
    ObjectId: seconds, a per-process random part, a counter)."""
    global _counter
    _counter = (_counter + 1) % 0x1000000
    stamp = int(time.time()).to_bytes(4, "big").hex()
    return stamp + _process + f"{_counter:06x}"


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


# JavaScript's Date holds times within 8.64e15 ms (100 000 000 days) of the epoch; Losant
# (a Node server) cannot store or answer a time outside that range.
MAX_TIME_MS = 8_640_000_000_000_000

_ISO = re.compile(
    r"(?P<year>[+-]\d{6}|\d{4})"
    r"(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"(?P<zone>Z|z|[+-]\d{2}:?\d{2})?"
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """The proleptic Gregorian ``(year, month, day)`` of a day count since 1970-01-01."""
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def iso(ms: float) -> str:
    """Milliseconds since the epoch as ``2024-01-02T03:04:05.678Z``.

    Like JavaScript's ``toISOString``, years outside 0..9999 are written with a sign and
    six digits (``+275760-09-13T00:00:00.000Z``).
    """
    whole = int(ms)
    days, rest = divmod(whole, 86_400_000)
    year, month, day = _civil_from_days(days)
    seconds, millis = divmod(rest, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if 0 <= year <= 9999:
        year_text = f"{year:04d}"
    else:
        year_text = f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return (
        f"{year_text}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"
    )


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string."""
    return iso(now_ms())


def _checked(ms: float) -> int:
    if not math.isfinite(ms):
        raise ValueError("a time must be a finite number")
    if abs(ms) > MAX_TIME_MS:
        raise ValueError("a time must be within 8.64e15 ms of 1970-01-01")
    return int(ms)


def _parse_iso(text: str) -> int | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    part = match.groupdict()
    year = int(part["year"])
    if part["year"] == "-000000":
        return None
    month, day = int(part["month"] or 1), int(part["day"] or 1)
    hour, minute = int(part["hour"] or 0), int(part["minute"] or 0)
    second = int(part["second"] or 0)
    millis = int((part["fraction"] or "0")[:3].ljust(3, "0"))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not 1 <= month <= 12 or not 1 <= day <= month_days[month - 1]:
        return None
    if hour > 24 or minute > 59 or second > 59 or (hour == 24 and (minute or second or millis)):
        return None
    offset = 0
    zone = part["zone"]
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        zone_hours, zone_minutes = int(digits[:2]), int(digits[2:])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset = sign * (zone_hours * 60 + zone_minutes) * 60_000
    days = _days_from_civil(year, month, day)
    return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis - offset


def parse_time(value: object, default_ms: int | None = None) -> int:
    """Read a time given as epoch milliseconds, a date string or ``{"$date": ...}``.

    Numbers (and numeric strings) are epoch milliseconds; strings may be ISO 8601 (with
    JavaScript's six-digit signed years) or RFC 2822 dates. The time must be finite and
    within JavaScript's Date range (|ms| <= 8.64e15). Raises ``ValueError`` when the
    value cannot be read and no default is given.
    """
    if isinstance(value, dict) and set(value) == {"$date"}:
        value = value["$date"]
        if not isinstance(value, str):
            raise ValueError("$date takes a date string")
    if value is None:
        if default_ms is None:
            raise ValueError("missing time")
        return default_ms
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int):
        if abs(value) > MAX_TIME_MS:
            raise ValueError("a time must be within 8.64e15 ms of 1970-01-01")
        return value
    if isinstance(value, float):
        return _checked(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 100:
            raise ValueError(f"cannot read a time from {value[:100]!r}")
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return _checked(number)
        ms = _parse_iso(text)
        if ms is None:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                raise ValueError(f"cannot read a time from {text!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            ms = int(moment.timestamp() * 1000)
        return _checked(ms)
    raise ValueError(f"cannot read a time from a {type(value).__name__}")


def token_string() -> str:
    """An opaque bearer token (three dot-separated parts, like a JWT)."""
    return ".".join(secrets.token_urlsafe(n) for n in (12, 32, 24))
