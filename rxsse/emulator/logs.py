"""``/logs``: a GitHub-Actions-like workflow run, streamed live.

One job of ten steps, as the runner shows it: ``Set up job``, a checkout
(git with ``\\r`` progress), Python set-up, ``pip install`` (download bars,
a root-user warning, a deprecation), an npm/vite build (``npm warn``,
coloured asset sizes), a migration script that dies with a Python
traceback, pytest in colour (progress dots, a failure with ``E`` lines, a
test id holding ``<script>``, an OSC 8 link, a ``::error file=...`` annotation,
``##[error]Process completed with exit code 1.``), a skipped upload step,
post-checkout clean-up and ``Complete job``.  Groups (``##[group]`` /
``::group::``), ``##[command]`` lines and ANSI colour (8/16, 256 and
truecolour) are what the real tools print.

Events (see :mod:`rxsse.domain.logs` for their shapes): ``step-start``,
``log`` (a JSON envelope ``{"step": n, "lines": [...]}`` of one to three
timestamped lines, so ``\\r`` survives SSE), ``step-complete``, and a final
``run-complete`` with the run's conclusion.  Event *k* has ``id: k``; a
request with ``Last-Event-ID: k`` resumes after it, and once the whole run
was sent such a request is answered ``204 No Content``.

Query parameters (besides the faults of :mod:`rxsse.emulator.faults`):

``rate=R``   log lines per second (default 40; ``0`` = as fast as possible)
``steps=N``  stop after the first N steps (default: all ten)

Timestamps start at ``2024-05-01T12:00:00Z`` and advance by amounts drawn
from the seed, so a run is the same for the same seed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rxsse._event import ServerSentEvent
from rxsse.emulator.faults import Faults
from rxsse.emulator.streaming import int_param, stream_response

__all__ = ["STEPS", "RunStep", "routes", "run_events"]

ESC = "\x1b"
R = f"{ESC}[0m"
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _c(*params: object) -> str:
    return f"{ESC}[{';'.join(str(p) for p in params)}m"


@dataclass(frozen=True)
class RunStep:
    """One step of the emulated run: its name, conclusion and raw output lines."""

    name: str
    conclusion: str
    lines: tuple[str, ...]


_BAR = "━" * 40


def _pip_bar(done: float, total: float, speed: str) -> str:
    filled = int(40 * done / total)
    colour = _c(38, 2, 249, 38, 114) if done < total else _c(38, 5, 197)
    return (
        f"   {colour}{_BAR[:filled]}{R}{_c(38, 5, 237)}{_BAR[filled:]}{R} "
        f"{_c(32)}{done:.1f}/{total:.1f} kB{R} {_c(31)}{speed}{R} eta "
        f"{_c(36)}0:00:0{int(filled < 40)}{R}"
    )


def _receiving(total: int) -> str:
    parts = [
        f"Receiving objects: {p:3d}% ({total * p // 100}/{total})" for p in (0, 25, 50, 75, 99)
    ]
    parts.append(f"Receiving objects: 100% ({total}/{total}), 1.21 MiB | 9.87 MiB/s, done.")
    return "\r".join(parts)


STEPS: tuple[RunStep, ...] = (
    RunStep(
        "Set up job",
        "success",
        (
            "Current runner version: '2.316.0'",
            "##[group]Operating System",
            "Ubuntu",
            "22.04.4",
            "LTS",
            "##[endgroup]",
            "##[group]Runner Image",
            "Image: ubuntu-22.04",
            "Version: 20240422.1.0",
            "##[endgroup]",
            "##[group]GITHUB_TOKEN Permissions",
            "Contents: read",
            "Metadata: read",
            "##[endgroup]",
            "Secret source: Actions",
            "Prepare workflow directory",
            "Prepare all required actions",
            "Getting action download info",
            "Download action repository 'actions/checkout@v4' "
            "(SHA:0ad4b8fadaa221de15dcec353f45205ec38ea70b)",
            "Download action repository 'actions/setup-python@v5' "
            "(SHA:82c7e631bb3cdc910f68e0081d67478d79c6982d)",
            "##[warning]Node.js 16 actions are deprecated. Please update the following actions "
            "to use Node.js 20: actions/cache@v3.",
            "Complete job name: test (3.11)",
        ),
    ),
    RunStep(
        "Run actions/checkout@v4",
        "success",
        (
            "##[group]Run actions/checkout@v4",
            "with:",
            "  repository: example/app",
            "  fetch-depth: 1",
            "##[endgroup]",
            "Syncing repository: example/app",
            "##[group]Getting Git version info",
            "Working directory is '/home/runner/work/app/app'",
            "##[command]/usr/bin/git version",
            "git version 2.44.0",
            "##[endgroup]",
            "##[command]/usr/bin/git init /home/runner/work/app/app",
            "hint: Using 'master' as the name for the initial branch. This default branch name",
            "hint: is subject to change. To configure the initial branch name to use in all",
            "Initialized empty Git repository in /home/runner/work/app/app/.git/",
            "##[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune "
            "--no-recurse-submodules --depth=1 origin +4f2a9c1:refs/remotes/origin/main",
            "remote: Enumerating objects: 164, done.",
            "remote: Counting objects: 100% (164/164), done.",
            _receiving(164),
            "Resolving deltas:   0% (0/12)\rResolving deltas: 100% (12/12), done.",
            "From https://github.com/example/app",
            " * [new ref]         4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 -> origin/main",
            "##[command]/usr/bin/git checkout --progress --force -B main refs/remotes/origin/main",
            "Switched to a new branch 'main'",
            "branch 'main' set up to track 'origin/main'.",
            f"{_c(33)}4f2a9c1{R} ({_c(1, 36)}HEAD -> {R}{_c(1, 32)}main{R}) Fix pagination "
            "<off-by-one> & tests",
        ),
    ),
    RunStep(
        "Set up Python 3.11",
        "success",
        (
            "##[group]Run actions/setup-python@v5",
            "with:",
            "  python-version: 3.11",
            "  cache: pip",
            "##[endgroup]",
            "##[group]Installed versions",
            "Successfully set up CPython (3.11.9)",
            "##[endgroup]",
            "::notice title=Cache::Cache restored from key: setup-python-Linux-pip-3f2a9c",
        ),
    ),
    RunStep(
        "Install dependencies",
        "success",
        (
            "##[group]Run python -m pip install -e '.[dev]'",
            "python -m pip install -e '.[dev]'",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "Obtaining file:///home/runner/work/app/app",
            "  Installing build dependencies: started",
            "  Installing build dependencies: finished with status 'done'",
            "Collecting httpx>=0.27 (from app==0.1.0)",
            "  Downloading httpx-0.27.0-py3-none-any.whl.metadata (7.2 kB)",
            "Collecting pydantic>=2.5 (from app==0.1.0)",
            "  Downloading pydantic-2.7.1-py3-none-any.whl.metadata (107 kB)",
            "\r".join(
                _pip_bar(d, 107.3, s)
                for d, s in ((0, "?"), (40.2, "3.0 MB/s"), (107.3, "5.2 MB/s"))
            ),
            "  Downloading httpx-0.27.0-py3-none-any.whl (75 kB)",
            "\r".join(_pip_bar(d, 75.6, s) for d, s in ((0, "?"), (75.6, "2.1 MB/s"))),
            "Collecting pytest>=8 (from app==0.1.0)",
            "  Using cached pytest-8.2.0-py3-none-any.whl (339 kB)",
            "DEPRECATION: Legacy editable install of app[dev]==0.1.0 from "
            "file:///home/runner/work/app/app (setup.py develop) is deprecated.",
            "Installing collected packages: sniffio, idna, h11, certifi, anyio, httpcore, "
            "httpx, pydantic-core, pydantic, pytest, app",
            "Successfully installed anyio-4.3.0 certifi-2024.2.2 h11-0.14.0 httpcore-1.0.5 "
            "httpx-0.27.0 idna-3.7 pydantic-2.7.1 pytest-8.2.0 app-0.1.0",
            f"{_c(33)}WARNING: Running pip as the 'root' user can result in broken permissions "
            f"and conflicting behaviour with the system package manager.{R}",
            "",
            f"[{_c(34, 49)}notice{_c(39, 49)}] A new release of pip is available: "
            f"{_c(31, 49)}24.0{_c(39, 49)} -> {_c(32, 49)}24.1.2{R}",
        ),
    ),
    RunStep(
        "Build frontend",
        "success",
        (
            "##[group]Run npm ci && npm run build",
            "npm ci && npm run build",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
            "npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
            "",
            "added 312 packages, and audited 313 packages in 8s",
            "",
            "found 0 vulnerabilities",
            "",
            "> app@1.0.0 build",
            "> vite build",
            "",
            f"{_c(36)}vite v5.2.11 {_c(32)}building for production...{R}",
            f"transforming (1) {_c(2)}index.html{_c(22)}\rtransforming (34) "
            f"{_c(2)}src/main.ts{_c(22)}",
            f"{_c(32)}✓{_c(39)} 34 modules transformed.",
            f"{_c(2)}dist/{_c(22)}{_c(32)}index.html                 {_c(39)}{_c(1, 2)}  0.46 "
            f"kB{_c(22)}{_c(1, 22)}{_c(2)} │ gzip:  0.30 kB{_c(22)}",
            f"{_c(2)}dist/{_c(22)}{_c(35)}assets/index-4f5c2a.css  {_c(39)}{_c(1, 2)}  1.39 "
            f"kB{_c(22)}{_c(1, 22)}{_c(2)} │ gzip:  0.72 kB{_c(22)}",
            f"{_c(2)}dist/{_c(22)}{_c(36)}assets/index-9b1d3e.js   {_c(39)}{_c(1, 2)}142.33 "
            f"kB{_c(22)}{_c(1, 22)}{_c(2)} │ gzip: 45.80 kB{_c(22)}",
            f"{_c(32)}✓ built in 1.21s{_c(39)}",
        ),
    ),
    RunStep(
        "Run migrations",
        "failure",
        (
            "##[group]Run python scripts/migrate.py",
            "python scripts/migrate.py",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            "Traceback (most recent call last):",
            '  File "/home/runner/work/app/app/scripts/migrate.py", line 31, in <module>',
            "    main()",
            '  File "/home/runner/work/app/app/scripts/migrate.py", line 12, in main',
            '    url = os.environ["DATABASE_URL"]',
            "          ~~~~~~~~~~^^^^^^^^^^^^^^^^",
            '  File "<frozen os>", line 679, in __getitem__',
            "KeyError: 'DATABASE_URL'",
            "##[error]Process completed with exit code 1.",
            "##[notice]continue-on-error is set; the job goes on.",
        ),
    ),
    RunStep(
        "Run tests",
        "failure",
        (
            "##[group]Run pytest -q --color=yes",
            "pytest -q --color=yes",
            "shell: /usr/bin/bash -e {0}",
            "##[endgroup]",
            f"{_c(1)}============================= test session starts "
            f"=============================={R}",
            "platform linux -- Python 3.11.9, pytest-8.2.0, pluggy-1.5.0",
            "rootdir: /home/runner/work/app/app",
            "configfile: pyproject.toml",
            f"collected 42 items{R}",
            "",
            f"tests/test_api.py {_c(32)}........{R}{_c(31)}F{R}{_c(32)}.{R}{_c(32)}             "
            f"                       [ 23%]{R}",
            f"tests/test_html.py {_c(32)}....{R}{_c(32)}                                        "
            f" [ 33%]{R}",
            "tests/test_html.py::test_escape[<script>alert(1)</script>] "
            f"{_c(32)}PASSED{R}{_c(32)}    [ 35%]{R}",
            f"tests/test_models.py {_c(32)}...........................{R}{_c(32)}              "
            f"[100%]{R}",
            "",
            "=================================== FAILURES ===================================",
            f"{_c(31)}{_c(1)}________________________________ test_get_user "
            f"_________________________________{R}",
            "",
            f"    {_c(94)}def{R} {_c(92)}test_get_user{R}(client):",
            f'        response = client.get({_c(33)}"/users/42"{R})',
            f">       {_c(94)}assert{R} response.status_code == {_c(94)}404{R}",
            f"{_c(1)}{_c(31)}E       assert 200 == 404{R}",
            f"{_c(1)}{_c(31)}E        +  where 200 = <Response [200 OK]>.status_code{R}",
            "",
            f"{_c(1)}{_c(31)}tests/test_api.py{R}:27: AssertionError",
            f"{_c(36)}=========================== short test summary info "
            f"============================{R}",
            f"{_c(31)}FAILED{R} tests/test_api.py::{_c(1)}test_get_user{R} - assert 200 == 404",
            f"{_c(31)}========================= {_c(31)}{_c(1)}1 failed{R}, {_c(32)}41 "
            f"passed{R}{_c(31)} in 3.21s{R}{_c(31)} ========================={R}",
            f"Full report: {ESC}]8;;https://ci.example.com/reports/1234?tab=tests&run=7{ESC}\\reports/1234{ESC}]8;;{ESC}\\",
            "::error file=tests/test_api.py,line=27,title=test_get_user::assert 200 == 404%0A  "
            "where 200 = response.status_code",
            "##[error]Process completed with exit code 1.",
        ),
    ),
    RunStep("Upload coverage", "skipped", ()),
    RunStep(
        "Post Run actions/checkout@v4",
        "success",
        (
            "Post job cleanup.",
            "##[command]/usr/bin/git version",
            "git version 2.44.0",
            "##[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
            '##[command]/usr/bin/git submodule foreach --recursive sh -c "git config --local '
            "--name-only --get-regexp 'core\\.sshCommand' && "
            "git config --local --unset-all 'core.sshCommand' || :\"",
        ),
    ),
    RunStep(
        "Complete job",
        "success",
        ("Cleaning up orphan processes",),
    ),
)
"""The run, step by step (lines without their timestamps)."""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def run_events(seed: int, *, steps: Sequence[RunStep] = STEPS) -> list[ServerSentEvent]:
    """Every event of the run, in order, with ids ``"1"``, ``"2"``, … (deterministic in "
    "``seed``)."""
    rng = random.Random(f"logs/{seed}")
    now = START
    events: list[ServerSentEvent] = []

    def add(kind: str, payload: dict[str, object]) -> None:
        events.append(ServerSentEvent(kind, json.dumps(payload), str(len(events) + 1)))

    failed = False
    for number, step in enumerate(steps, start=1):
        add("step-start", {"step": number, "name": step.name, "started_at": _stamp(now)})
        index = 0
        while index < len(step.lines):
            size = rng.choice((1, 1, 1, 2, 3))
            lines = []
            for raw in step.lines[index : index + size]:
                now += timedelta(microseconds=rng.randrange(200, 400_000))
                lines.append(f"{_stamp(now)} {raw}")
            index += size
            add("log", {"step": number, "lines": lines})
        now += timedelta(milliseconds=rng.randrange(5, 900))
        failed = failed or step.conclusion == "failure"
        add(
            "step-complete",
            {"step": number, "conclusion": step.conclusion, "completed_at": _stamp(now)},
        )
    add("run-complete", {"conclusion": "failure" if failed else "success"})
    return events


def _line_count(event: ServerSentEvent) -> int:
    if event.event != "log":
        return 0
    lines = json.loads(event.data).get("lines", [])
    return len(lines) if isinstance(lines, list) else 0


async def paced(
    events: Sequence[ServerSentEvent], *, rate: float
) -> AsyncIterator[ServerSentEvent]:
    """``events`` at ``rate`` log lines per second (step events cost a tenth of a line)."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    for sent, event in enumerate(events):
        if rate > 0:
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            due += max(_line_count(event), 0.1) / rate
        elif sent % 256 == 0:
            await asyncio.sleep(0)
        yield event


def routes(seed: int) -> list[BaseRoute]:
    """The ``/logs`` route of an emulator seeded with ``seed``."""

    async def logs(request: Request) -> Response:
        try:
            faults = Faults.from_query(request.query_params, default_seed=seed)
            rate = float(request.query_params.get("rate", "40"))
            steps = int_param(request, "steps", None)
        except ValueError as exc:
            return PlainTextResponse(f"bad query parameter: {exc}\n", status_code=400)
        events = run_events(faults.seed, steps=STEPS[:steps] if steps is not None else STEPS)
        last = request.headers.get("last-event-id", "")
        first = int(last) if last.isdigit() else 0
        if last and first >= len(events):
            return Response(status_code=204)
        return stream_response(request, paced(events[first:], rate=rate), faults)

    return [Route("/logs", logs)]
