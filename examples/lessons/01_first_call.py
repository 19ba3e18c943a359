"""Lesson 1: a first call. Log in as a user, ask who we are, list our applications.

    python examples/lessons/01_first_call.py
"""

from _account import account

from losant_fluent import API

with account() as acct:
    # An API is the root of every chain. login_user sends POST /auth/user and keeps the token.
    api = API(url=acct.url).login_user(acct.email, acct.password)

    # api.me() is the path /me; only the verb .get() sends a request.
    me = api.me().get()
    print(f"Logged in as {me.email}")

    # Results are pydantic models: fields are attributes, in snake_case.
    for app in api.applications().get():
        print(f"Application {app.name!r} (id {app.id})")

    # Every result keeps the HTTP response it came from.
    print(f"GET /me answered {me.http_response().status_code}")
