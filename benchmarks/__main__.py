"""Run every benchmark module's ``main()``: ``python -m benchmarks [--quick]``."""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import decoder, http, llm
from benchmarks import logs as logs_bench
from benchmarks import messaging as messaging_bench
from benchmarks import sales as sales_bench

BENCHMARKS: tuple[Callable[[list[str] | None], None], ...] = (decoder.main, http.main, llm.main)
BENCHMARKS += (messaging_bench.main,)
BENCHMARKS += (logs_bench.main,)
BENCHMARKS += (sales_bench.main,)


def main(argv: list[str] | None = None) -> None:
    """Run each benchmark in turn, passing the same command-line arguments."""
    args = sys.argv[1:] if argv is None else argv
    for run in BENCHMARKS:
        run(list(args))


if __name__ == "__main__":
    main()
