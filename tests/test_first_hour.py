"""What a newcomer meets in a first hour: displays, hints, messages, signatures (issue 24)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from losant_fluent import API, UnauthorizedError
from losant_fluent.models import Device, Devices, TimeSeriesData
from losant_fluent.models._registry import parse_response
from losant_fluent.testing import Emulator


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


# -- 2. tokens: the banner prints one; no token and a 'Bearer ' prefix say what to do ---------


def test_a_401_without_a_token_says_how_to_get_one(emulator: Emulator) -> None:
    api = API(url=emulator.url)
    with pytest.raises(UnauthorizedError) as caught:
        api.me().get()
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("401 Unauthorized: Authorization header with a bearer token")
    assert "(GET /me); this API has no token: log in with api.login_user(email, password)" in text
    assert "API(token=...) or $LOSANT_API_TOKEN" in text
    assert caught.value.message == "Authorization header with a bearer token is required"


def test_a_401_with_a_token_gives_no_login_hint(emulator: Emulator) -> None:
    with pytest.raises(UnauthorizedError) as caught:
        API(url=emulator.url, token="not-a-token").me().get()
    assert "has no token" not in str(caught.value)


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer "])
def test_a_bearer_prefix_is_refused_before_sending(prefix: str, server: Any) -> None:
    secret = "eyJhbGciOiJIUzI1NiJ9.SECRET"
    with pytest.raises(ValueError, match="without the 'Bearer ' prefix") as caught:
        API(url=server.url, token=prefix + secret)
    assert secret not in str(caught.value)
    api = API(url=server.url)
    with pytest.raises(ValueError, match="token must be the token alone"):
        api.set_token(prefix + secret)
    assert not api.has_token
    with pytest.raises(TypeError, match="token must be a string, not int"):
        API(url=server.url, token=5)  # type: ignore[arg-type]
    assert server.requests == []


def test_the_emulator_banner_prints_a_token_that_works() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "losant_fluent.testing", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        banner: dict[str, str] = {}
        for line in process.stdout:
            if line.startswith("  LOSANT_"):
                name, _, value = line.strip().partition("=")
                banner[name] = value
            if line.startswith("Press Ctrl-C"):
                break
        api = API(url=banner["LOSANT_API_URL"], token=banner["LOSANT_API_TOKEN"])
        assert api.me().get().email == banner["LOSANT_EMAIL"]
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- 9. a URL without a scheme ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "suggested"),
    [
        ("127.0.0.1:18080", "http://127.0.0.1:18080"),
        ("localhost:8080", "http://localhost:8080"),
        ("api.losant.com", "https://api.losant.com"),
    ],
)
def test_a_url_without_a_scheme_suggests_the_right_one(url: str, suggested: str) -> None:
    with pytest.raises(ValueError) as caught:
        API(url=url)
    assert f"try '{suggested}'" in str(caught.value)


# -- 3. a missing extra names the extra ---------------------------------------------------------


@pytest.mark.parametrize(
    ("blocked", "statement", "expected"),
    [
        ("httpx", "from losant_fluent import AsyncAPI",
         "AsyncAPI needs httpx, which is not installed: pip install 'losant-fluent[async]'"),
        ("werkzeug", "from losant_fluent.testing import Emulator",
         "the emulator needs werkzeug, which is not installed: "
         "pip install 'losant-fluent[testing]'"),
    ],
)
def test_a_missing_extra_names_the_extra(blocked: str, statement: str, expected: str) -> None:
    script = (
        f"import sys; sys.modules[{blocked!r}] = None\n"  # as if it were not installed
        f"try:\n    {statement}\n"
        "except ModuleNotFoundError as exc:\n    print(type(exc).__name__, exc.name, exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == f"ModuleNotFoundError {blocked} {expected}"


# -- 4. forgetting the verb -----------------------------------------------------------------------


def test_a_field_read_on_a_node_says_nothing_was_sent_and_which_verb(server: Any) -> None:
    api = API(url=server.url, token="tok")
    device = api.applications("a" * 24).devices("b" * 24)
    with pytest.raises(AttributeError) as caught:
        device.name  # noqa: B018
    text = str(caught.value)
    assert text == (
        f"DeviceNode has no attribute 'name': it is the path {device.path}; nothing was sent. "
        "To send the request and read 'name' from the answer, call a verb first: "
        ".get().name (verbs here: get, patch, delete)."
    )
    assert caught.value.name == "name" and caught.value.obj is device
    with pytest.raises(AttributeError, match=r"Did you mean \.devices\(\)\?"):
        api.applications("a" * 24).device  # noqa: B018
    assert not hasattr(device, "name") and not hasattr(device, "_private")
    assert server.requests == []


def test_an_async_node_says_to_await_the_verb() -> None:
    from losant_fluent import AsyncAPI

    with pytest.raises(AttributeError, match=r"call a verb first: \(await node\.get\(\)\)\.email"):
        AsyncAPI(url="http://127.0.0.1:9").me().email  # noqa: B018


# -- 7. verbs have real signatures: completion of keywords, true types in help() -----------------


def test_a_verb_signature_names_and_types_every_keyword(server: Any) -> None:
    import pydoc

    devices = API(url=server.url, token="tok").applications("a" * 24).devices()
    get = inspect.signature(devices.get)
    names = list(get.parameters)
    assert names[:4] == ["sortField", "sortDirection", "page", "perPage"]
    assert names[-6:] == ["timeout", "validate", "_actions", "_links", "_embedded", "losantdomain"]
    per_page = get.parameters["perPage"]
    assert per_page.kind is inspect.Parameter.KEYWORD_ONLY
    assert per_page.annotation == "str | int | float" and repr(per_page.default) == "..."
    assert get.parameters["sortDirection"].annotation == "Literal['asc', 'desc']"
    assert get.return_annotation == "Devices"
    post = inspect.signature(devices.post)
    body = post.parameters["body"]
    assert body.kind is inspect.Parameter.POSITIONAL_ONLY
    assert body.annotation == "DevicePost | BodyInput"
    # A required keyword has no default.
    tag_values = inspect.signature(devices.tag_values().get)
    assert tag_values.parameters["key"].default is inspect.Parameter.empty
    text = pydoc.render_doc(devices.get, renderer=pydoc.plaintext)
    assert "perPage: 'str | int | float' = ..." in text
    assert "perPage (str | int | float, in query, optional, default 100)" in text
    assert server.requests == []


def test_calling_a_verb_builds_no_signature_until_one_is_asked_for(emulator: Emulator) -> None:
    # Building a signature imports every keyword type (tens of ms): a process's first call
    # of a verb must not pay it (walk speed, issue 19), yet inspect must still see it.
    script = (
        "import inspect, sys\n"
        "from losant_fluent import API\n"
        f"api = API(url={emulator.url!r}, token={emulator.user_token()!r})\n"
        f"devices = api.applications({emulator.application_id!r}).devices()\n"
        "count = devices.get(perPage=5).count\n"
        "print(count, 'losant_fluent._params' in sys.modules)\n"
        "sig = inspect.signature(devices.get)\n"
        "print(list(sig.parameters)[3], sig.return_annotation, repr(sig)[:10])\n"
        "print('losant_fluent._params' in sys.modules, sig == inspect.signature(devices.get))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    first, second, third = done.stdout.splitlines()
    assert first.split()[1] == "False" and int(first.split()[0]) >= 1
    assert second == "perPage Devices <Signature"
    assert third == "True True"


def test_async_verbs_keep_their_signature_and_stay_coroutines() -> None:
    from losant_fluent import AsyncAPI

    me = AsyncAPI(url="http://127.0.0.1:9").me()
    assert inspect.iscoroutinefunction(me.get)
    assert "includeRecent" in inspect.signature(me.get).parameters
    assert "timeout" in inspect.signature(me.patch).parameters


def test_ipython_completes_keyword_names_of_a_verb(server: Any) -> None:
    # IPython's keyword completion (``python_func_kw_matches``) lists the names of
    # inspect.signature's keyword parameters: the same call, without IPython installed.
    devices = API(url=server.url, token="tok").applications("a" * 24).devices()
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [n for n, p in inspect.signature(devices.get).parameters.items() if p.kind in kinds]
    assert [n for n in names if n.startswith("per")] == ["perPage"]


def test_completion_on_a_result_offers_what_works_on_it() -> None:
    device = Device.model_validate({"id": "a" * 24, "name": "n", "customKey": 1})
    names = [name for name in dir(device) if not name.startswith("_")]
    for gone in ("dict", "json", "parse_obj", "schema", "copy", "construct", "iter_items",
                 "pages", "to_pandas", "to_dask", "to_parquet", "model_config",
                 "model_post_init"):
        assert gone not in names
    for kept in ("name", "id", "tags", "customKey", "describe", "raw_json", "model_dump"):
        assert kept in names
    assert len(names) == 30  # was 52
    assert callable(device.dict) and device.model_dump()["name"] == "n"  # still there
    page = Devices.model_validate({"items": []})
    assert {"iter_items", "pages", "to_pandas", "to_dask", "to_parquet", "items"} <= set(
        dir(page))
    assert "to_pandas" in dir(time_series(1))


# -- 8. IPython tracebacks of a LosantError end at the caller's line ---------------------------


class FakeShell:
    """The two members of IPython's InteractiveShell the handler uses, recorded."""

    def __init__(self, custom: tuple[type, ...] = ()) -> None:
        self.custom_exceptions = custom
        self.handler: Any = None
        self.shown: list[tuple[Any, ...]] = []

    def set_custom_exc(self, exceptions: tuple[type, ...], handler: Any) -> None:
        self.custom_exceptions, self.handler = exceptions, handler

    def showtraceback(self, exc_tuple: tuple[Any, ...], tb_offset: int | None = None) -> None:
        self.shown.append((*exc_tuple, tb_offset))


def test_ipython_shows_a_losant_error_without_library_frames(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import traceback

    import losant_fluent
    from losant_fluent import LosantError, Node

    monkeypatch.setattr(Node, "__getattr__", vars(Node)["__getattr__"])  # put back after
    shell = FakeShell()
    losant_fluent.load_ipython_extension(shell)
    assert shell.custom_exceptions == (LosantError, AttributeError)
    with pytest.raises(UnauthorizedError) as caught:
        API(url=emulator.url).me().get()
    error = caught.value
    full = traceback.format_exception(type(error), error, error.__traceback__)
    assert sum("losant_fluent" in line and "File" in line for line in full) >= 4
    shell.handler(shell, type(error), error, error.__traceback__, tb_offset=1)
    [(etype, value, tb, offset)] = shell.shown
    assert etype is UnauthorizedError and value is error and offset == 1
    frames = [frame.f_code.co_filename for frame, _ in traceback.walk_tb(tb)]
    assert frames and all("losant_fluent" not in name for name in frames)
    assert frames[-1] == __file__  # the caller's own line comes last
    shown = "".join(traceback.format_exception(etype, value, tb))
    assert shown.splitlines()[-1].startswith("losant_fluent.UnauthorizedError: 401 ")
    assert "(GET /me)" in shown.splitlines()[-1]


def test_in_ipython_nodes_complete_and_a_field_read_still_explains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import losant_fluent
    from losant_fluent import Node

    monkeypatch.setattr(Node, "__getattr__", vars(Node)["__getattr__"])  # put back after
    shell = FakeShell()
    losant_fluent.load_ipython_extension(shell)
    # IPython's completer evaluates only objects without __getattr__ (guarded_eval).
    assert "__getattr__" not in vars(Node)
    device = API(url="http://127.0.0.1:9", token="t").applications("a" * 24).devices("b" * 24)
    with pytest.raises(AttributeError) as caught:
        device.name  # noqa: B018
    assert str(caught.value) == "'DeviceNode' object has no attribute 'name'"
    shell.handler(shell, AttributeError, caught.value, caught.value.__traceback__)
    [(etype, value, _, _)] = shell.shown
    assert etype is AttributeError and "nothing was sent" in str(value)
    assert "call a verb first: .get().name" in str(value)
    other = AttributeError("unrelated")
    shell.handler(shell, AttributeError, other, None)
    assert shell.shown[-1][1] is other  # everything else is shown as usual


def test_a_session_with_its_own_handler_keeps_it() -> None:
    from losant_fluent._ipython import install

    shell = FakeShell(custom=(KeyError,))
    assert install(shell) is False and shell.custom_exceptions == (KeyError,)
    assert install(None) is False  # no IPython running here


def test_an_error_message_is_one_line() -> None:
    from losant_fluent import BadRequestError

    error = BadRequestError(400, "Validation", "first line\n  second line", method="POST",
                            path="/x")
    assert str(error) == "400 Validation: first line second line (POST /x)"
    assert error.message == "first line\n  second line"


# -- python -m losant_fluent: a session with api ready ------------------------------------------


def launch(*args: str, stdin: str, env: dict[str, str] | None = None) -> str:
    """Run the launcher with ``stdin`` typed into its session; its whole output."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LOSANT_")}
    done = subprocess.run(
        [sys.executable, "-m", "losant_fluent", "--plain", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env={**base, **(env or {})},
        check=True,
    )
    return done.stdout + "\n" + done.stderr


def test_the_launcher_binds_api_app_and_device_on_a_fresh_emulator() -> None:
    out = launch(stdin=(
        "print('devices:', len(app.devices().get()))\n"
        "print('me:', api.me().get().email == emulator.user_email)\n"
        "print('device:', device.get().name)\n"
        "api.applications('0' * 24).get()\n"
    ))
    assert "(seeded; it stops when you leave)" in out
    assert any(line.startswith("losant-fluent ") and "a local emulator at http://127.0.0.1:"
               in line for line in out.splitlines())
    assert "  api       <API http://127.0.0.1:" in out and "token=set>, logged in as" in out
    assert "Try:" in out and "help(app.devices().get)" in out
    assert "devices: 25" in out and "me: True" in out and "device: Emulated Thermostat" in out
    # An error ends at the caller's line: no library frames.
    assert 'File "<console>", line 1, in <module>' in out
    assert "losant_fluent.NotFoundError: 404 NotFound: Application was not found (GET " in out
    assert "_pipeline.py" not in out and "_node.py" not in out


def test_the_launcher_uses_the_account_of_the_environment(emulator: Emulator) -> None:
    env = {
        "LOSANT_API_URL": emulator.url,
        "LOSANT_API_TOKEN": emulator.user_token(),
        "LOSANT_APPLICATION_ID": emulator.application_id,
        "LOSANT_DEVICE_ID": emulator.device_id,
    }
    out = launch(env=env, stdin="print('app:', app.get().id)\nprint(emulator)\n")
    assert "the account of the environment (token from LOSANT_API_TOKEN)" in out
    assert f"app: {emulator.application_id}" in out
    assert "NameError: name 'emulator' is not defined" in out  # no emulator was started
    forced = launch("--emulator", env=env, stdin="print(emulator.url != " + repr(emulator.url)
                    + ")\n")
    assert "a local emulator at" in forced and "True" in forced


def test_the_launcher_explains_itself() -> None:
    out = launch("--help", stdin="")
    assert "usage: python -m losant_fluent [-h] [--emulator] [--plain]" in out
    assert "LOSANT_API_TOKEN" in out and "IPython" in out


# -- 9. the rest: Ctrl-C and the progress bar, lesson 9's file, extras -------------------------


def test_ctrl_c_during_a_walk_ends_the_progress_bar_line(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    from losant_fluent._pagination import Pager

    emulator.seed_devices(3)
    api = API(url=emulator.url, token=emulator.user_token())
    walk = api.applications(emulator.application_id).devices().get(perPage=2).iter_items(
        progress=True
    )
    next(walk)
    next(walk)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Pager, "fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        next(walk)
    err = capsys.readouterr().err
    assert "2/4" in err and err.endswith("\n")  # the traceback starts on a line of its own


def test_lesson_9_writes_a_file_of_its_own(tmp_path: Any) -> None:
    pytest.importorskip("werkzeug")
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSANT_")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(root / "examples" / "lessons" / "09_export.py")],
        capture_output=True, text=True, timeout=120, env=env, check=True,
    )
    written = [p for p in tmp_path.iterdir() if p.name.startswith("readings-")]
    assert len(written) == 1 and written[0].suffix == ".csv"
    assert f"to {written[0]}" in done.stdout
    assert not (tmp_path / "readings.csv").exists()


def test_extras_hold_what_their_users_need() -> None:
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check needs one run

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert not any(dep.startswith("matplotlib") for dep in extras["data"])
    assert any(dep.startswith("matplotlib") for dep in extras["examples"])
    assert "losant-fluent[data,testing]" in extras["examples"]
    # Imported at run time by the package itself, so declared.
    assert any(dep.startswith("typing-extensions") for dep in project["dependencies"])
    used = {
        line.split()[1].split(".")[0]
        for path in (root / "losant_fluent").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from .")
    }
    assert "typing_extensions" in used


# -- 5. types that agree: last-value tables, state times -------------------------------------


def test_last_value_values_are_floats_as_in_the_model_and_survive_concat(
    emulator: Emulator,
) -> None:
    pd = pytest.importorskip("pandas")
    api = API(url=emulator.url, token=emulator.user_token())
    app = api.applications(emulator.application_id)
    app.devices(emulator.device_id).state().post({"data": {"temperature": 20.0}})
    last = app.data().last_value_query().post({"deviceIds": [emulator.device_id]})
    assert last[emulator.device_id].data["temperature"] == 20.0  # the model: a float
    frame = last.to_pandas()
    assert str(frame["value"].dtype) == "float64"  # was int64 (JSON wrote 20)
    # docs/data.md: one query per chunk of ids, then pd.concat; a chunk may find nothing.
    empty = app.data().last_value_query().post({"deviceIds": ["f" * 24]}).to_pandas()
    both = pd.concat([frame, empty], ignore_index=True)
    assert str(both["value"].dtype) == "float64"  # was object
    assert both["value"].tolist() == [20.0]


def test_times_of_states_commands_and_events_are_datetimes_like_every_other() -> None:
    from losant_fluent.models import DeviceStates

    when = "2024-05-01T12:00:00.123Z"
    states = DeviceStates.model_validate_json(
        f'[{{"time": "{when}", "data": {{"t": 1}}}}, {{"time": 1714564800123, "data": {{}}}},'
        ' {"time": {"$date": "2024-05-01T12:00:00.123Z"}, "data": {}}]'
    )
    first = states[0].time
    assert isinstance(first, datetime)
    assert first == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)
    assert states[1].time == 1714564800123  # a number stays a number, as sent
    assert states.model_dump(mode="json")[0]["time"] == when  # written back as it came
    assert states.model_dump(mode="json")[1]["time"] == 1714564800123
    built = DeviceStates.model_validate([{"time": when, "data": {}}])  # Python data too
    assert isinstance(built[0].time, datetime)
