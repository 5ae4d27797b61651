"""The hatchling build hook (``hatch_build.py``) that compiles the optional C decoder.

Called directly, on a scratch copy of ``rxsse/_speedups.c``: in place for
editable installs, into the wheel otherwise, and a warning (or, when
required, an error) instead of a failed install when there is no compiler.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import hatch_build
from rxsse import ServerSentEvent

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses CC=/bin/false")

_CC = (sysconfig.get_config_var("CC") or "cc").split()[0]
needs_compiler = pytest.mark.skipif(
    shutil.which(_CC) is None, reason=f"no C compiler ({_CC}) on this machine"
)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "rxsse").mkdir()
    shutil.copy(ROOT / "rxsse" / "_speedups.c", tmp_path / "rxsse" / "_speedups.c")
    for name in ("RXSSE_NO_EXTENSIONS", "RXSSE_REQUIRE_EXTENSIONS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run_hook(root: Path, version: str) -> dict[str, Any]:
    unused: Any = None  # the hook reads neither the builder config nor the metadata
    hook = hatch_build.SpeedupsBuildHook(str(root), {}, unused, unused, str(root / "dist"), "wheel")
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize(version, build_data)
    hook.finalize(version, build_data, str(root / "dist" / "x.whl"))
    return build_data


@needs_compiler
def test_editable_install_compiles_in_place_and_the_module_decodes(root: Path) -> None:
    build_data = run_hook(root, "editable")
    built = root / "rxsse" / f"_speedups{SUFFIX}"
    assert built.is_file()
    assert build_data == {"force_include": {}}  # editable installs import from the tree
    spec = importlib.util.spec_from_file_location("rxsse._speedups", built)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.SSEDecoder().feed(b"data: hi\n\n") == [ServerSentEvent(data="hi")]


@needs_compiler
def test_wheel_build_adds_the_module_and_a_platform_tag(root: Path) -> None:
    build_data = run_hook(root, "standard")
    (target,) = build_data["force_include"].values()
    assert target == f"rxsse/_speedups{SUFFIX}"
    assert build_data["pure_python"] is False
    assert build_data["infer_tag"] is True
    assert not (root / "rxsse" / f"_speedups{SUFFIX}").exists()  # nothing written in the tree


def test_without_a_compiler_the_install_goes_on_in_pure_python(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = root / "rxsse" / f"_speedups{SUFFIX}"
    stale.write_bytes(b"an old build")
    monkeypatch.setenv("CC", "/bin/false")
    assert run_hook(root, "editable") == {"force_include": {}}
    assert "C speedups not built" in capsys.readouterr().err
    assert not stale.exists()  # never run C code older than its source
    assert run_hook(root, "standard") == {"force_include": {}}  # a pure wheel


def test_a_required_module_that_cannot_be_built_fails_the_build(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setenv("RXSSE_REQUIRE_EXTENSIONS", "1")
    with pytest.raises(RuntimeError, match="C speedups required"):
        run_hook(root, "standard")


def test_no_extensions_skips_compiling(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RXSSE_NO_EXTENSIONS", "1")
    assert run_hook(root, "editable") == {"force_include": {}}
    assert not (root / "rxsse" / f"_speedups{SUFFIX}").exists()
    assert "RXSSE_NO_EXTENSIONS is set" in capsys.readouterr().err
