"""detect_level: a table of real-world CI log lines (traps included) and the rule table."""

from __future__ import annotations

import re

import pytest

from rxsse.domain.logs import LEVEL_RULES, Level, LevelRule, detect_level, level_rule

E, W, N, I, D = Level.ERROR, Level.WARNING, Level.NOTICE, Level.INFO, Level.DEBUG  # noqa: E741

# (line as a tool prints it, expected level); comments name the tool.
CASES: list[tuple[str, Level]] = [
    # GitHub runner markers and workflow commands
    ("##[error]Process completed with exit code 1.", E),
    ("##[warning]Node.js 16 actions are deprecated.", W),
    ("##[notice]Cache restored from key: Linux-pip-3f2a", N),
    ("##[debug]Evaluating condition for step: 'Run tests'", D),
    ("##[group]Run actions/checkout@v4", I),
    ("##[command]/usr/bin/git version", I),
    ("##[group]ERROR handling tests", I),  # trap: a group title is not a level
    ("::error file=tests/test_api.py,line=27,col=5,title=test_get::assert 200 == 404", E),
    ("::warning::Unexpected input(s) 'node-versoin'", W),
    ("::notice file=app.js,line=1::Missing semicolon", N),
    ("::debug::cache key: pip-3f2a", D),
    ("::group::Installing dependencies", I),
    # structured logs
    ('{"level":"error","msg":"connection refused","ts":1714566896}', E),
    ('{"severity":"WARNING","message":"slow query"}', W),
    ('{"lvl":"debug","msg":"tick"}', D),
    ('{"level":50,"time":1714566896,"msg":"pino failed"}', E),
    ('{"msg":"no level key","error_count":3}', I),  # trap
    ('time="2024-05-01T12:00:00Z" level=error msg="dial tcp: connection refused"', E),
    ("ts=2024-05-01T12:00:00Z level=warn msg=slow duration=3.2s", W),
    ("ts=2024-05-01T12:00:00Z level=info msg=ready error_count=0", I),
    ("error_count=0 warnings=0", I),  # trap
    # Python
    ("Traceback (most recent call last):", E),
    ('  File "/home/runner/work/app/app/migrate.py", line 12, in <module>', I),
    ("KeyError: 'DATABASE_URL'", E),
    ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x', port=443)", E),
    ("ERROR:root:could not connect", E),
    ("WARNING:root:disk almost full", W),
    ("CRITICAL:app.db:pool exhausted", E),
    ("2024-05-01 12:00:00,123 - app.worker - ERROR - job 7 failed", E),
    ("2024-05-01 12:00:00,123 - app.worker - INFO - job 7 done", I),
    ("DeprecationWarning: pkg_resources is deprecated as an API", W),
    ("WARNING: Running pip as the 'root' user can result in broken permissions", W),
    ("DEPRECATION: Legacy editable install of app==0.1 is deprecated", W),
    ("Successfully installed error-handler-0.3 httpx-0.27.0", I),  # trap
    ("  Downloading errorhandler-1.0.tar.gz (12 kB)", I),  # trap
    # pytest
    ("FAILED tests/test_api.py::test_get_user - assert 200 == 404", E),
    ("ERROR tests/test_db.py - sqlalchemy.exc.OperationalError", E),
    ("tests/test_api.py::test_get_user FAILED                              [ 50%]", E),
    ("tests/test_errors.py::test_error_handling PASSED                      [100%]", I),  # trap
    ("E       assert 200 == 404", E),
    ("========================= 1 failed, 41 passed in 3.21s =========================", E),
    ("================= 42 passed, 2 warnings in 3.21s =================", W),
    ("============================== 42 passed in 3.21s ==============================", I),
    ("collected 42 items / 0 errors", I),  # trap
    # node / npm / eslint / tsc
    ("npm ERR! code ELIFECYCLE", E),
    ("npm error Missing script: 'biuld'", E),
    ("npm warn deprecated inflight@1.0.6: This module is not supported", W),
    ("npm WARN EBADENGINE Unsupported engine", W),
    ("npm notice New major version of npm available! 9.8.1 -> 10.7.0", N),
    ("found 0 vulnerabilities", I),  # trap
    ("Error: Cannot find module 'vite'", E),
    ("(node:2412) ExperimentalWarning: The Fetch API is an experimental feature.", W),
    ("  12:5  error  'foo' is assigned a value but never used  no-unused-vars", E),
    ("  3:1   warning  Unexpected console statement  no-console", W),
    ("src/app.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.", E),
    ("✖ 2 problems (1 error, 1 warning)", I),  # counts are not levels
    # git, shells, compilers, Go, Rust, Java
    ("fatal: not a git repository (or any of the parent directories): .git", E),
    ("error: pathspec 'mian' did not match any file(s) known to git", E),
    ("warning: redirecting to https://github.com/o/r.git/", W),
    ("hint: Using 'master' as the name for the initial branch.", I),
    ("panic: runtime error: index out of range [3] with length 3", E),
    ("--- FAIL: TestParse (0.00s)", E),
    ("E0102 12:00:01.123456    1 controller.go:114] sync failed", E),
    ("W0102 12:00:01.123456    1 reflector.go:324] watch closed", W),
    ("I0102 12:00:01.123456    1 leaderelection.go:248] attempting to acquire lease", I),
    ("error[E0425]: cannot find value `x` in this scope", E),
    ("warning: unused import: `std::io`", W),
    ("thread 'main' panicked at src/main.rs:4:5:", E),
    ("app/models.py:12: error: Incompatible return value type", E),
    ("app/models.py:30: note: See https://mypy.rtfd.io", N),
    ("[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin", E),
    ("[WARNING] Using platform encoding (UTF-8 actually) to copy filtered resources", W),
    ("[INFO] BUILD SUCCESS", I),
    ("FAILURE: Build failed with an exception.", E),
    ("E: Unable to locate package libfoo-dev", E),
    ("W: GPG error: https://ppa.example InRelease: NO_PUBKEY", W),
    ("2024-05-01 12:00:00.123 ERROR [main] c.e.App - boom", E),
    ("2024-05-01T12:00:00.123Z WARN  [pool-1] slow response", W),
    # traps from the issue and friends
    ("Found 0 errors", I),
    ("Errors: none", I),
    ("Compiling src/ErrorHandler.java", I),
    ("ErrorHandler.java:12 registered", I),
    ("Uploading TERRORIST.csv", I),
    ("0 errors, 0 warnings", I),
    ("No warnings found.", I),
    ("Checking for errors... done", I),
    ("test_fatal_error_is_reported ... ok", I),
    ("Run echo 'ERROR: this is only echoed text'", I),
    # ANSI colour around the token
    ("\x1b[31mERROR\x1b[0m: build failed", E),
    ("\x1b[1m\x1b[31mE       assert 1 == 2\x1b[0m", E),
    ("\x1b[33mwarning\x1b[39m: unused variable `y`", W),
    ("\x1b[32m✓\x1b[39m 34 modules transformed.", I),
]


def test_the_table_is_large_and_has_every_level() -> None:
    assert len(CASES) >= 40
    assert {level for _, level in CASES} == set(Level)
    assert sum(level is Level.INFO for _, level in CASES) >= 15  # traps and plain lines


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0][:50] for c in CASES])
def test_level_of_real_world_line(line: str, expected: Level) -> None:
    assert detect_level(line) is expected


def test_every_rule_example_is_answered_by_its_own_rule() -> None:
    for rule in LEVEL_RULES:
        if rule.example:
            assert rule.match(rule.example) is not None, rule.name


def test_the_first_answer_wins_and_users_extend_the_table() -> None:
    custom = level_rule("our deploy tool", r"\[deploy\] (rollback)", Level.WARNING)
    assert detect_level("[deploy] rollback to v41") is Level.INFO
    assert detect_level("[deploy] rollback to v41", (custom, *LEVEL_RULES)) is Level.WARNING
    # placed first, a rule overrides a later one
    quiet = LevelRule("no errors from echo", lambda t: I if t.startswith("ERROR: echo") else None)
    assert detect_level("ERROR: echo test") is Level.ERROR
    assert detect_level("ERROR: echo test", (quiet, *LEVEL_RULES)) is Level.INFO
    assert detect_level("anything", ()) is Level.INFO


def test_level_rule_words_and_unknown_words() -> None:
    rule = level_rule("sev", r"sev=(\w+)", words={"hot": Level.ERROR})
    assert rule.match("sev=hot") is Level.ERROR
    assert rule.match("sev=WARN") is Level.WARNING
    assert rule.match("sev=banana") is None
    assert rule.match("nothing") is None
    ignore_case = level_rule("x", r"boom", Level.ERROR, flags=re.IGNORECASE)
    assert ignore_case.match("BOOM") is Level.ERROR


def test_progress_bars_are_judged_by_their_visible_text() -> None:
    assert detect_level("ERROR: stale\rdownloading 100%") is Level.INFO
    assert detect_level("downloading 10%\rERROR: disk full") is Level.ERROR
