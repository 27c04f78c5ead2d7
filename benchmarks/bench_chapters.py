"""Benchmark: each chapter executed alone, top to bottom, as a reader runs it: the time budget (≤ 80 s each).

For each of ``--repeats`` rounds (default 3), each chapter in turn is executed by nbclient in a fresh
kernel (the current environment's ``python3``), with the chapter's own directory as the working
directory and nothing else of this script running meanwhile; the notebook file is not written.
Reports, per chapter, the median and spread (min–max) of the wall time from the kernel's start to its
last cell, and the sum of the cells' own times (from their execution timestamps) of the median run.
Run it on a quiet machine: the figure is the chapter's time alone.

    python benchmarks/bench_chapters.py [--repeats 3] [notebooks/03_vae.ipynb ...]
    python benchmarks/bench_chapters.py --repeats 1 --max-cells 2    # a check that it runs (first 2 code cells)
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells_time(nb) -> float:
    """The sum of the code cells' own times (shell.execute_reply − iopub.execute_input)."""
    total = 0.0
    for cell in nb.cells:
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            start, end = (
                datetime.fromisoformat(stamps[k].replace("Z", "+00:00"))
                for k in ("iopub.execute_input", "shell.execute_reply")
            )
            total += (end - start).total_seconds()
    return total


def execute(path: Path, max_cells: int | None, timeout: int) -> tuple[float, float]:
    """Wall time and summed cell time of one execution of the notebook at path, in its own directory."""
    nb = nbformat.read(path, as_version=4)
    if max_cells is not None:
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"][:max_cells]
        nb.cells = nb.cells[: code[-1] + 1] if code else []
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, cells_time(nb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, default=NOTEBOOKS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-cells", type=int, default=None, help="execute only the first N code cells (a check)")
    parser.add_argument("--timeout", type=int, default=1200, help="per cell, seconds")
    args = parser.parse_args()
    runs: dict[Path, list[tuple[float, float]]] = {path: [] for path in args.notebooks}
    for _ in range(args.repeats):
        for path in args.notebooks:  # one at a time: each chapter alone
            runs[path].append(execute(path, args.max_cells, args.timeout))
    print(f"each chapter alone, nbclient, its directory as cwd; median (min-max) of {args.repeats} runs")
    for path, times in runs.items():
        wall = [w for w, _ in times]
        median_run = sorted(times)[len(times) // 2]
        print(
            f"  {path.stem:<28} {statistics.median(wall):6.1f} s ({min(wall):.1f}-{max(wall):.1f})"
            f"   cells {median_run[1]:.1f} s"
        )


if __name__ == "__main__":
    main()
