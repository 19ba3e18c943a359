"""The documentation runs: every Python block of README.md and docs/, every lesson script,
the endpoint reference is fresh and the site builds with ``mkdocs build --strict``.

How a page's Python blocks run (the convention docs/index.md describes for readers):

* the blocks of one page run in order, in one namespace, against a fresh emulator;
* ``LOSANT_API_URL`` and ``LOSANT_API_TOKEN`` point at the emulator (a user token), so
  ``API()`` reaches it, and the namespace already holds ``api`` (logged in as the
  emulator's user), ``app_id``, ``device_id``, ``email``, ``password``, ``access_key``,
  ``access_secret``, ``token``, ``instance_id``, ``org_id`` and ``emulator``;
* a function a block defines whose name starts with ``test_`` and takes ``emulator`` is
  called with the emulator, as pytest would;
* a block right after ``<!-- not-run: reason -->`` is skipped (and counted); a block made
  only of ``--8<--`` includes shows a lesson script, which runs as a script instead.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LESSONS = ROOT / "examples" / "lessons"

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<rest>.*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")
SNIPPET = re.compile(r"^\s*-{1,}8<-{1,}\s")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    not_run: str | None  # the reason, when the block is marked not-run

    @property
    def is_snippet(self) -> bool:
        lines = [line for line in self.code.splitlines() if line.strip()]
        return bool(lines) and all(SNIPPET.match(line) for line in lines)

    @property
    def included(self) -> list[str]:
        return re.findall(r"--8<--\s+\"([^\"]+)\"", self.code)


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, with the not-run mark before it if any."""
    rel = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, ticks = match["indent"], match["ticks"]
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(ticks) and lines[i].strip().strip(ticks[0]) == ""
        ):
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        mark = NOT_RUN.match(lines[before]) if before >= 0 else None
        out.append(
            Block(
                rel,
                start + 1,
                match["lang"].lower(),
                "\n".join(body) + "\n",
                mark["reason"] if mark else None,
            )
        )
    return out


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def python_blocks(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.lang in ("python", "py", "python3", "pycon")]


PAGES_WITH_CODE = [p for p in pages() if python_blocks(p)]


@pytest.fixture
def docs_namespace(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    from losant_fluent import API

    monkeypatch.chdir(tmp_path)  # files a page's code writes land here, not in the checkout

    token = emulator.user_token()
    for name in list(os.environ):
        if name.startswith("LOSANT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOSANT_API_URL", emulator.url)
    monkeypatch.setenv("LOSANT_API_TOKEN", token)
    with API(url=emulator.url).login_user(emulator.user_email, emulator.user_password) as api:
        yield {
            "__name__": "__docs__",
            "api": api,
            "app_id": emulator.application_id,
            "device_id": emulator.device_id,
            "email": emulator.user_email,
            "password": emulator.user_password,
            "access_key": emulator.access_key,
            "access_secret": emulator.access_secret,
            "token": token,
            "instance_id": emulator.instance_id,
            "org_id": emulator.org_id,
            "emulator": emulator,
        }


RAN: dict[str, tuple[int, int, int]] = {}  # page -> (run, not-run, lesson includes)


@pytest.mark.parametrize(
    "page", PAGES_WITH_CODE, ids=[p.relative_to(ROOT).as_posix() for p in PAGES_WITH_CODE]
)
def test_page_examples_run(page: Path, docs_namespace: dict[str, Any]) -> None:
    run = skipped = included = 0
    for block in python_blocks(page):
        if block.not_run is not None:
            skipped += 1
            continue
        if block.is_snippet:
            for name in block.included:
                assert (ROOT / name).is_file(), f"{block.page}:{block.line} includes {name}"
            included += 1
            continue
        before = {k for k, v in docs_namespace.items() if callable(v)}
        try:
            exec(compile(block.code, f"{block.page}:{block.line}", "exec"), docs_namespace)
            for name, value in list(docs_namespace.items()):
                if name.startswith("test_") and name not in before and callable(value):
                    params = inspect.signature(value).parameters
                    value(**{p: docs_namespace[p] for p in params})
        except Exception as exc:
            raise AssertionError(
                f"the Python block at {block.page}:{block.line} failed: "
                f"{type(exc).__name__}: {exc}\n--- block ---\n{block.code}"
            ) from exc
        run += 1
    RAN[page.relative_to(ROOT).as_posix()] = (run, skipped, included)


def test_not_run_blocks_say_why() -> None:
    for block in (b for p in pages() for b in python_blocks(p) if b.not_run is not None):
        assert len(block.not_run or "") > 10, f"{block.page}:{block.line}: give a reason"


# -- the generated endpoint reference --------------------------------------------------------


def _gen_docs() -> Any:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_endpoint_reference_is_up_to_date() -> None:
    stale = _gen_docs().stale_pages()
    assert not stale, f"stale pages (run: python scripts/gen_docs.py): {stale}"


def test_endpoint_reference_lists_every_endpoint_with_a_chain_that_reaches_it() -> None:
    from losant_fluent import API
    from losant_fluent._catalog import endpoints

    gen = _gen_docs()
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted((DOCS / "reference" / "endpoints").glob("*.md"))
    )
    api = API(url="http://127.0.0.1:9", token="t")
    found = 0
    for endpoint in endpoints().values():
        raw = endpoint.raw
        assert f"### {endpoint.method} `{endpoint.path}` {{ #{gen.anchor(endpoint.id)} }}" in text
        chain = gen.chain(raw)
        assert f"\n{chain}\n" in text
        # The chain, with each id argument given its own name, reaches the path template.
        match = re.fullmatch(r"(api\..*)\.(get|post|patch|put|delete)\(.*\)", chain)
        assert match is not None and match[2] == endpoint.method.lower(), chain
        names = re.findall(r"\(([a-z_]+)\)", match[1])
        node = eval(match[1], {"api": api, **{n: f"ID-{n}" for n in names}})
        expected = endpoint.path
        for name in names:
            camel = next(p.name for p in endpoint.params if gen.snake(p.name) == name)
            expected = expected.replace("{" + camel + "}", f"ID-{name}")
        assert node.path == expected, (chain, node.path)
        assert f"`{endpoint.id}`; node class `{type(node).__name__}`" in text
        assert callable(getattr(node, endpoint.method.lower()))
        found += 1
    assert found == 380


# -- the tutorial's lesson scripts -----------------------------------------------------------

# What each lesson must print (besides exiting 0) when it runs against the emulator.
LESSON_OUTPUT = {
    "01_first_call.py": ["Logged in as emulator@example.com", "GET /me answered 200"],
    "02_devices.py": [
        "Created 'Lesson pump'",
        "Description now: 'Moves water'",
        "1 device(s) left",
    ],
    "03_state.py": ["Sent 4 states", "Read back 4 states:", "temperature=22.0"],
    "04_last_value.py": ["Newest temperature of", "{'temperature': 19.5}"],
    "05_time_series.py": ["mean temperature per 5 minutes"],
    "06_data_tables.py": ["fewer than 20: ['gauge', 'valve']", "valve now counts 25", "deleted"],
    "07_pagination.py": ["251 devices", "page 2: 51 devices", "first 30 devices with a single"],
    "08_errors.py": [
        "TypeError:",
        "BodyValidationError:",
        "NotFoundError: status=404",
        "BadRequestError:",
        "ForbiddenError: 403",
        "is a LosantError",
    ],
    "09_export.py": ["Wrote 6 readings to", "Export job queued: True",
                     "Export job completed: 6/6 states", "6 rows"],
}


def test_every_lesson_is_checked_and_shown_on_its_page() -> None:
    scripts = sorted(p.name for p in LESSONS.glob("[0-9]*.py"))
    assert scripts == sorted(LESSON_OUTPUT)
    shown = "".join(p.read_text(encoding="utf-8") for p in (DOCS / "tutorial").glob("*.md"))
    for name in scripts:
        assert f'--8<-- "examples/lessons/{name}"' in shown, f"no tutorial page shows {name}"


def test_lessons_run_against_the_emulator(tmp_path: Path) -> None:
    pytest.importorskip("werkzeug")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSANT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    running = {
        name: subprocess.Popen(
            [
                sys.executable,
                str(LESSONS / name),
                *([str(tmp_path / "out.csv")] if name.startswith("09") else []),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in sorted(LESSON_OUTPUT)
    }
    for name, process in running.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name} failed:\n{out}"
        assert "Using the Losant emulator at http://127.0.0.1:" in out, out
        for expected in LESSON_OUTPUT[name]:
            assert expected in out, f"{name} did not print {expected!r}:\n{out}"


# -- the class reference and the site ---------------------------------------------------------


def test_class_reference_names_every_public_error_and_api_member() -> None:
    import losant_fluent
    from losant_fluent import API, LosantError

    errors = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    for name in losant_fluent.__all__:
        value = getattr(losant_fluent, name)
        if isinstance(value, type) and issubclass(value, LosantError):
            assert name in errors, f"reference/errors.md does not name {name}"
    api_page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    public = {n for n in vars(API) if not n.startswith("_")} | {"at", "close"}
    for name in sorted(public):
        assert f"`{name}" in api_page, f"reference/api.md does not name API.{name}"


def test_every_page_is_in_the_site_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).as_posix()
        assert f" {rel}\n" in nav, f"{rel} is not in the nav of mkdocs.yml"


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    built = sorted(tmp_path.glob("site/**/index.html"))
    assert len(built) >= len(list(DOCS.rglob("*.md")))


def test_docs_examples_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Counts what the docs hold (shown in the test output) and keeps not-run blocks rare."""
    run = not_run = 0
    run_pages: set[str] = set()
    shown: set[str] = set()
    for page in pages():
        for block in python_blocks(page):
            if block.not_run is not None:
                not_run += 1
            elif block.is_snippet:
                shown.update(n for n in block.included if Path(n).name[0].isdigit())
            else:
                run += 1
                run_pages.add(block.page)
    with capsys.disabled():
        print(
            f"\ndocs: {run} Python blocks run on {len(run_pages)} pages, {not_run} marked "
            f"not-run; {len(shown)} lesson scripts shown in the tutorial and run as scripts"
        )
    assert not_run <= max(3, (run + not_run) // 10)
