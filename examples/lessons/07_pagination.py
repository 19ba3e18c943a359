"""Lesson 7: pagination. Walk every device of a big application, a page at a time.

    python examples/lessons/07_pagination.py
"""

from _account import account

from losant_fluent import API

# The emulator starts with 250 more devices, enough for several pages.
with account(extra_devices=250) as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    devices = api.applications(acct.application_id).devices()

    # The result of a paginated call is its first page...
    first = devices.get(perPage=100, sortField="name")
    print(f"{first.total_count} devices; the first page holds {len(first)}")

    # ...and looping over it walks every item of every page, fetching each page when needed.
    names = [device.name for device in first]
    print(f"Walked {len(names)} devices, from {names[0]!r} to {names[-1]!r}")

    # pages() yields the page models themselves; the first is `first`.
    for number, page in enumerate(first.pages()):
        print(f"  page {number}: {len(page.items or [])} devices")

    # iter_items(max_items=N) stops early and never fetches a page it does not need.
    some = list(first.iter_items(max_items=30))
    print(f"Took the first {len(some)} devices with a single request")
