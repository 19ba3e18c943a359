"""Losant's published operating limits, as data: throttles, answer caps, id-list caps, jobs.

Every number here is a fact about the Losant platform, with where it comes from; nothing
else in the package writes one of these numbers down. The client's limiter reads
``THROTTLES`` (``API(throttle=...)`` replaces or drops entries), and query splitting reads
the caps. Losant sends no rate-limit headers, so these tables are the only way a client can
stay under the limits instead of learning them from 429 answers.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Losant's REST API overview, section "Throttles And Limits".
REST_THROTTLES = "https://docs.losant.com/rest-api/overview/ (Throttles And Limits)"
#: Losant staff on the forum: the device throttle is counted per device id, whoever sends.
PER_DEVICE = "https://forums.losant.com/t/gateway-device-api-rate-limits/4407"
#: The JSON Schemas of the API (``reference/schemas``): ``maxItems`` of ``deviceIds``.
SCHEMAS = "reference/schemas (deviceIds: maxItems 1000)"


@dataclass(frozen=True)
class Throttle:
    """At most ``calls`` calls of ``endpoints`` in any ``window`` seconds, per ``per``.

    ``per`` names the path parameter whose value the count is kept for (``deviceId``: each
    device has its own budget). ``endpoints`` are catalog ids (``device.sendState``).
    """

    name: str
    endpoints: frozenset[str]
    calls: int
    window: float
    per: str
    source: str

    def __post_init__(self) -> None:
        if self.calls < 1 or not self.window > 0 or self.window == float("inf"):
            raise ValueError(f"throttle {self.name!r}: calls must be >= 1 and window a "
                             f"finite number of seconds > 0 (got {self.calls}, {self.window})")


@dataclass(frozen=True)
class OneAtATime:
    """``endpoints`` accept one call at a time per value of the path parameter ``per``."""

    endpoints: frozenset[str]
    per: str
    source: str


def _ids(*names: str) -> frozenset[str]:
    return frozenset(names)


THROTTLES: tuple[Throttle, ...] = (
    # Each row of Losant's table is its own budget; state and commands are separate rows.
    Throttle("device state", _ids("device.sendState"), 30, 15.0, "deviceId",
             f"{REST_THROTTLES}; counted per device: {PER_DEVICE}"),
    Throttle("device commands", _ids("device.sendCommand"), 30, 15.0, "deviceId",
             REST_THROTTLES),
    Throttle("device connection status", _ids("device.setConnectionStatus"), 30, 15.0,
             "deviceId", REST_THROTTLES),
    # Losant counts MQTT publishes per topic; the topic is in the body, so the client keeps
    # the stricter count per application.
    Throttle("MQTT publish", _ids("application.mqttPublishMessage"), 30, 15.0,
             "applicationId", REST_THROTTLES),
    Throttle("event creation", _ids("events.post"), 15, 15.0, "applicationId",
             REST_THROTTLES),
    Throttle("virtual button", _ids("flow.pressVirtualButton"), 100, 10.0, "flowId",
             REST_THROTTLES),
    Throttle("embedded deployment export", _ids("embeddedDeployments.export"), 1, 300.0,
             "applicationId", REST_THROTTLES),
    Throttle("notebook input data export", _ids("notebook.requestInputDataExport"), 1, 900.0,
             "notebookId", REST_THROTTLES),
)

ONE_AT_A_TIME: tuple[OneAtATime, ...] = (
    OneAtATime(_ids("application.archiveData", "application.backfillArchiveData",
                    "application.export", "application.fullDataTablesArchive",
                    "application.fullEventsArchive", "application.import", "data.export",
                    "devices.export", "devices.payloadCounts", "events.export"),
               "applicationId", REST_THROTTLES),
    # Losant counts clones per owner (sandbox or organization); the path names only the
    # application, so the client keeps one at a time per application.
    OneAtATime(_ids("application.clone"), "applicationId", REST_THROTTLES),
    OneAtATime(_ids("dashboard.sendReport"), "dashboardId", REST_THROTTLES),
    OneAtATime(_ids("dataTableRows.export"), "dataTableId", REST_THROTTLES),
    OneAtATime(_ids("device.export"), "deviceId", REST_THROTTLES),
    OneAtATime(_ids("instance.generateReport"), "instanceId", REST_THROTTLES),
)

#: Largest answer of a time-series query, in bytes ("30MB"; decimal, the stricter reading).
TIME_SERIES_ANSWER_BYTES = 30_000_000
#: Largest answer of data table rows get / query, in bytes ("20MB").
DATA_TABLE_ROWS_ANSWER_BYTES = 20_000_000
#: Largest multipart body of a file upload through the API, in bytes ("10MB"); larger files
#: go to the storage host through the signed upload the API answers with.
UPLOAD_BODY_BYTES = 10_000_000
#: Most device ids one ``deviceIds`` list may hold.
DEVICE_IDS_PER_CALL = 1000
#: Most states one device state history call answers (``device.getState``'s ``limit``), as
#: stated in the issue that asked for splitting (issue 21); the reference has no maximum.
STATES_PER_CALL = 100

SOURCES: dict[str, str] = {
    "TIME_SERIES_ANSWER_BYTES": REST_THROTTLES,
    "DATA_TABLE_ROWS_ANSWER_BYTES": REST_THROTTLES,
    "UPLOAD_BODY_BYTES": REST_THROTTLES,
    "DEVICE_IDS_PER_CALL": SCHEMAS,
    "STATES_PER_CALL": "issue 21 (Losant's device API docs: Get State)",
}


def throttle_for(endpoint_id: str, throttles: tuple[Throttle, ...] = THROTTLES,
                 ) -> Throttle | None:
    """The throttle that applies to catalog endpoint ``endpoint_id``, or ``None``."""
    for throttle in throttles:
        if endpoint_id in throttle.endpoints:
            return throttle
    return None


def one_at_a_time_for(endpoint_id: str,
                      rules: tuple[OneAtATime, ...] = ONE_AT_A_TIME) -> OneAtATime | None:
    """The one-at-a-time rule that covers catalog endpoint ``endpoint_id``, or ``None``."""
    for rule in rules:
        if endpoint_id in rule.endpoints:
            return rule
    return None


def path_value(template: str, path: str, name: str) -> str | None:
    """The value of path parameter ``name`` in ``path``, read against ``template``.

    ``path_value("/applications/{applicationId}/devices/{deviceId}/state",
    "/applications/a1/devices/d7/state", "deviceId")`` is ``"d7"``.
    """
    wanted = "{" + name + "}"
    template_parts = template.strip("/").split("/")
    path_parts = path.split("?", 1)[0].strip("/").split("/")
    if len(template_parts) != len(path_parts):
        return None
    for pattern, value in zip(template_parts, path_parts, strict=True):
        if pattern == wanted:
            return value
    return None
