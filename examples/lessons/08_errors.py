"""Lesson 8: errors. What fails before sending, what the API refuses, and how to tell.

    python examples/lessons/08_errors.py
"""

from _account import account

from losant_fluent import (
    API,
    BadRequestError,
    BodyValidationError,
    ForbiddenError,
    LosantError,
    NotFoundError,
)

with account() as acct:
    # Retries are automatic where they are safe: 429s, and 5xx/dropped connections for
    # GET, PUT and DELETE. max_retries=0 turns them off.
    api = API(url=acct.url, max_retries=2).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)

    # 1. Mistakes caught before anything is sent.
    try:
        app.devices().get(perPage=10, colour="red")  # not a parameter of this endpoint
    except TypeError as err:
        print(f"TypeError: {err}")
    try:
        app.devices().post({"name": "No class", "deviceClass": "toaster"})
    except BodyValidationError as err:
        print(f"BodyValidationError: {err}")
        field, problem = err.errors[0]  # (API path, message) pairs
        print(f"  the field is {field!r}")

    # 2. The API's own refusals: one class per HTTP status, all of them LosantErrors.
    try:
        app.devices("000000000000000000000000").get()
    except NotFoundError as err:
        print(f"NotFoundError: status={err.status} type={err.type} message={err.message!r}")
    try:
        app.devices().get(query={"name": {"$like": "Sensor*"}})  # no such query operator
    except BadRequestError as err:
        print(f"BadRequestError: {err.message}")

    # 3. A device token may touch only its own device.
    device_api = API(url=acct.url).login_device(
        acct.device_id, acct.access_key, acct.access_secret
    )
    try:
        device_api.applications(acct.application_id).devices().get()
    except ForbiddenError as err:
        print(f"ForbiddenError: {err.http_response().status_code} from {err.path}")

    # 4. One except clause for everything losant-fluent raises on purpose.
    try:
        api.applications("000000000000000000000000").get()
    except LosantError as err:
        print(f"{type(err).__name__} is a LosantError")
