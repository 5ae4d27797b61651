"""Hatchling build hook: compile the optional C accelerator ``rxsse._speedups``.

What is compiled
    ``rxsse/_speedups.c`` into the extension module ``rxsse._speedups``, with
    setuptools' ``build_ext`` (it knows each platform's compiler, Python
    headers, flags and file suffix) plus ``-O2`` (``/O2`` with MSVC).  The
    usual variables (``CC``, ``CFLAGS``, ``LDFLAGS``, ...) pick and tune the
    compiler.

When
    Only for the wheel target, where this hook is registered
    (``[tool.hatch.build.targets.wheel.hooks.custom]`` in pyproject.toml).  The
    sdist carries ``rxsse/_speedups.c`` and this file; the module is built when
    a wheel is built from it.

    * Editable installs (``pip install -e .``; ``make test`` uses one): the
      module is built into the source tree, as
      ``rxsse/_speedups<EXT_SUFFIX>`` next to ``rxsse/__init__.py``, since an
      editable install imports from there.  It is built only when the editable
      install runs: after changing ``_speedups.c``, run ``pip install -e .``
      again.  When the module is skipped or fails to build, an in-place module
      left by an earlier install (one this interpreter would import) is
      removed, so the tree never runs C code older than its source.
    * Wheels (``pip wheel .``, ``pip install .``, ``python -m build``): the
      module is built in a temporary directory and added to the wheel as
      ``rxsse/<filename>``; the wheel then gets this interpreter's platform tag
      (e.g. ``cp311-cp311-linux_x86_64``).  Without it the wheel stays pure
      (``py3-none-any``).

Fallback
    The module is optional; rxsse works without it.  If it cannot be built (no
    C compiler, no Python headers, a compile or link error: setuptools'
    ``CompileError``, ``LinkError``, ``ExecError``, ``PlatformError``, or any
    other exception), one line goes to stderr::

        rxsse: C speedups not built (<reason>); using the pure-Python decoder

    and the build carries on without the module.  (pip shows a build's output
    only with ``-v``.)

Environment variables (set: any value but empty or ``0``, the rule
``rxsse.decoder`` applies to ``RXSSE_NO_EXTENSIONS`` at import time)
    ``RXSSE_NO_EXTENSIONS``
        Do not compile at all: a pure-Python wheel or editable install.
    ``RXSSE_REQUIRE_EXTENSIONS``
        A module that cannot be built is a build error instead of a warning.

    Setting both is a build error.
"""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import sys
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE = "rxsse._speedups"
SOURCE = "rxsse/_speedups.c"
NO_EXTENSIONS = "RXSSE_NO_EXTENSIONS"
REQUIRE_EXTENSIONS = "RXSSE_REQUIRE_EXTENSIONS"


def _env_flag(name: str) -> bool:
    # The same rule as rxsse.decoder's runtime check of RXSSE_NO_EXTENSIONS.
    return os.environ.get(name, "") not in ("", "0")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warn(reason: str) -> None:
    print(
        f"rxsse: C speedups not built ({reason}); using the pure-Python decoder",
        file=sys.stderr,
        flush=True,
    )


def _compile(source: str, workdir: str) -> str:
    """Build the module from ``source`` under ``workdir``; return the built file's path."""
    if not os.path.isfile(source):
        message = f"{SOURCE} not found"
        raise FileNotFoundError(message)

    # Imported here: setuptools is only needed (and only maybe present) when compiling.
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    class _BuildExt(build_ext):  # type: ignore[misc,unused-ignore]
        def build_extensions(self) -> None:
            optimize = "/O2" if self.compiler.compiler_type == "msvc" else "-O2"
            for extension in self.extensions:
                extension.extra_compile_args = [optimize, *extension.extra_compile_args]
            super().build_extensions()

    distribution = Distribution({"name": "rxsse", "ext_modules": [Extension(MODULE, [source])]})
    command = _BuildExt(distribution)
    command.build_lib = os.path.join(workdir, "lib")
    command.build_temp = os.path.join(workdir, "temp")
    command.ensure_finalized()
    command.run()
    built: str = command.get_ext_fullpath(MODULE)
    if not os.path.isfile(built):
        message = f"build_ext reported success but {built} is missing"
        raise FileNotFoundError(message)
    return built


class SpeedupsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile ``rxsse._speedups`` for wheels and editable installs; see the module docstring."""

    PLUGIN_NAME = "custom"

    _workdir: tempfile.TemporaryDirectory[str] | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        editable = version == "editable"
        skip = _env_flag(NO_EXTENSIONS)
        require = _env_flag(REQUIRE_EXTENSIONS)
        if skip and require:
            message = f"rxsse: {NO_EXTENSIONS} and {REQUIRE_EXTENSIONS} are both set"
            raise ValueError(message)
        if skip:
            if editable:
                self._remove_in_place()
            _warn(f"{NO_EXTENSIONS} is set")
            return

        self._workdir = tempfile.TemporaryDirectory(prefix="rxsse-speedups-")
        try:
            built = _compile(os.path.join(self.root, SOURCE), self._workdir.name)
            if editable:
                self._install_in_place(built)
        except Exception as exc:
            self._cleanup()
            if editable:
                self._remove_in_place()
            if require:
                message = f"rxsse: C speedups required ({REQUIRE_EXTENSIONS} is set) but not built"
                raise RuntimeError(f"{message}: {_one_line(exc)}") from exc
            _warn(_one_line(exc))
            return

        if editable:
            self._cleanup()
        else:
            build_data["force_include"][built] = f"rxsse/{os.path.basename(built)}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _install_in_place(self, built: str) -> None:
        # Copy then rename: a process that has the old module loaded keeps its
        # (unlinked) copy instead of seeing the file rewritten under it.
        target = os.path.join(self.root, "rxsse", os.path.basename(built))
        partial = f"{target}.tmp"
        try:
            shutil.copy2(built, partial)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        self._remove_in_place(keep=target)

    def _remove_in_place(self, keep: str | None = None) -> None:
        """Remove in-place builds this interpreter would import, except ``keep``."""
        base = os.path.join(self.root, *MODULE.split("."))
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = base + suffix
            if path == keep or not os.path.isfile(path):
                continue
            try:
                os.remove(path)
            except OSError as exc:
                print(f"rxsse: could not remove stale {path}: {exc}", file=sys.stderr, flush=True)
