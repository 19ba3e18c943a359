"""Lesson 2: devices. Create a device, read it, change it, find it, delete it.

    python examples/lessons/02_devices.py
"""

from _account import account

from losant_fluent import API

with account() as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)  # the path /applications/{applicationId}

    # POST /applications/{applicationId}/devices: the body is the first argument.
    device = app.devices().post(
        {
            "name": "Lesson pump",
            "deviceClass": "standalone",
            "tags": [{"key": "site", "value": "north"}],
            "attributes": [{"name": "pressure", "dataType": "number"}],
        }
    )
    print(f"Created {device.name!r} with id {device.id}")

    # A segment followed by an id takes it as an argument: /devices/{deviceId}.
    pump = app.devices(device.id)
    print(f"Read back: {pump.get().name!r}, class {pump.get().device_class}")

    pump.patch({"description": "Moves water"})
    print(f"Description now: {pump.get().description!r}")

    # Query parameters are keyword arguments, with the API's own names.
    found = app.devices().get(filterField="name", filter="Lesson*", tagFilter=[{"key": "site"}])
    print(f"Devices named Lesson*: {[d.name for d in found]}")

    pump.delete()
    print(f"Deleted; {app.devices().get().total_count} device(s) left")
