"""Lower layers never import higher ones (design.md, section 2)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rxsse"

# module path prefix (relative to the package, dotted) -> forbidden import prefixes
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "errors": ("rxsse", "httpx", "anyio", "reactivex", "pydantic"),
    "_event": ("httpx", "anyio", "reactivex", "pydantic", "rxsse.decoder", "rxsse.sources"),
    "decoder": ("httpx", "anyio", "reactivex", "pydantic", "rxsse.sources", "rxsse.aio"),
    "domain": ("reactivex", "httpx", "anyio", "rxsse.operators", "rxsse.sources", "rxsse.aio"),
    "operators": ("httpx", "anyio", "rxsse.sources", "rxsse.aio", "rxsse.serve", "rxsse.cli"),
    "sources": ("rxsse.operators", "rxsse.domain", "rxsse.serve", "rxsse.cli", "rxsse.jupyter"),
    "_loop": ("rxsse",),
    "_async_source": ("rxsse.operators", "rxsse.domain", "rxsse.sources"),
    "aio": ("rxsse.operators", "rxsse.domain", "rxsse.sources"),
    "serve": ("rxsse.cli", "rxsse.jupyter", "rxsse.emulator", "rxsse.sources", "rxsse.operators"),
    "emulator": ("rxsse.cli", "rxsse.jupyter", "rxsse.sources"),
}

# modules that must import nothing outside the standard library and these
STDLIB_ONLY: dict[str, tuple[str, ...]] = {
    "errors": (),
    "_event": ("rxsse.errors",),
    "decoder": ("rxsse.errors", "rxsse._event", "rxsse._native"),
    "_native": ("rxsse._speedups",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path) if module is None else module
    package = ["rxsse", *module.split(".")]
    if path.name != "__init__.py":
        package.pop()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _rule_for(module: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    for prefix, rule in table.items():
        if module == prefix or module.startswith(prefix + "."):
            return rule
    return None


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("path", _all_modules(), ids=lambda p: _module_name(p) or "rxsse")
def test_no_upward_imports(path: Path) -> None:
    rule = _rule_for(_module_name(path), FORBIDDEN)
    if rule is None:
        return
    bad = sorted(name for name in _imports(path) if any(_matches(name, p) for p in rule))
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("module", sorted(STDLIB_ONLY))
def test_core_imports_only_stdlib(module: str) -> None:
    path = PACKAGE / f"{module}.py"
    allowed = STDLIB_ONLY[module]
    for name in _imports(path):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        assert any(_matches(name, a) for a in allowed), f"{module} imports {name}"


def test_c_decoder_imports_only_the_event_and_the_errors() -> None:
    # rxsse._speedups (C) is part of the decoder layer: it may import what
    # decoder.py may, and nothing else.
    source = (PACKAGE / "_speedups.c").read_text(encoding="utf-8")
    imported = set(re.findall(r'import_attr\("([\w.]+)"', source))
    assert imported == {"rxsse._event", "rxsse.errors"}
    assert source.count("PyImport_ImportModule(") == 1  # the one inside import_attr


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    """The walker itself works: it resolves relative imports and flags them."""
    fake = tmp_path / "fake.py"
    fake.write_text("import httpx\nfrom ..operators import llm\nfrom . import _event\n")
    names = _imports(fake, module="sources.fake")
    assert {"httpx", "rxsse.operators", "rxsse.operators.llm", "rxsse.sources._event"} <= names
    rule = _rule_for("sources.fake", FORBIDDEN)
    assert rule is not None
    assert any(_matches("rxsse.operators.llm", p) for p in rule)
