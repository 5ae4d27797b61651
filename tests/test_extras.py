"""Optional features name the extra to install when it is missing."""

from __future__ import annotations

import pytest

from rxsse._extras import require


def test_a_missing_module_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"pip install 'rxsse\[server\]'") as info:
        require("rxsse.serve", "server", "json", "surely_not_installed_module")
    assert info.value.name == "surely_not_installed_module"


def test_present_modules_pass() -> None:
    require("rxsse.serve", "server", "json", "asyncio")
