"""Command line: ``python -m vaetut beta-table`` prints the beta table of `vaetut.experiments.beta_sweep`.

Every argument is checked before any training: a user error is one line on stderr and exit status 2.
Ctrl-C ends a sweep (serial, on local workers or on a Dask cluster) with one line and exit status 130,
its workers terminated; SIGTERM (`kill`) likewise, with exit status 143; a worker that dies ends it
with one line and exit status 1.
The CSV is written after the table is computed, the ordinary way (``open(path, "w")``): it writes
through to whatever is at the path (a file keeps its inode, permissions and group; a symlink, a FIFO
or a device stays what it is) and a failed sweep leaves the old file untouched.
Help and messages are plain ASCII; the table uses the book's labels (β, ⟨C⟩, ...) when stdout can
encode them and ASCII names (beta, <C>, ...) otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

MAX_THREADS = 4 * (os.cpu_count() or 1)  # more only slows torch down; 100000 crashes OpenMP
_UNICODE_SAMPLE = "β⟨C⟩−⟨V⟩—"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(name: str, upper: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < 1 or (upper is not None and value > upper):
            bound = f"between 1 and {upper}" if upper is not None else ">= 1"
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, got {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"--seed must be between 0 and 2**32 - 1, got {value}")
    return value


def _beta(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"beta must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"beta must be a finite number >= 0, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="python -m vaetut", description="Companion tools of the vaetut book.")
    parser.add_argument("--version", action="version", version=f"vaetut {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table = commands.add_parser(
        "beta-table",
        help="train one VAE per beta on the embedded MNIST and print <C> <U> <S> -<V> on held-out images",
        description="Train one VAE per beta (and seed) on the embedded MNIST (no network) and print the beta "
        "table: held-out averages of C, U, S and -V, and the ratio -<V>/2(<U>+<S>). beta = 0 is set, not trained. "
        "Its time, serial and parallel, is measured in the README (Figures).",
    )
    table.add_argument(
        "--betas",
        type=_beta,
        nargs="+",
        default=[0, 0.5, 1, 1.5, 2, 2.5, 3],
        metavar="BETA",
        help="the beta values, finite and >= 0 (default: 0 0.5 1 1.5 2 2.5 3)",
    )
    table.add_argument(
        "--epochs", type=_positive_int("--epochs"), default=20, help="training epochs per beta (default: 20)"
    )
    table.add_argument(
        "--latent-dim", type=_positive_int("--latent-dim"), default=20, help="latent dimensions D (default: 20)"
    )
    seeds = table.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default: 0)")
    seeds.add_argument(
        "--seeds",
        type=_seed,
        nargs="+",
        metavar="SEED",
        help="train every (beta, seed) pair; print the mean +- sd over the seeds per beta, write every row to --csv",
    )
    table.add_argument(
        "--threads",
        type=_positive_int("--threads", MAX_THREADS),
        default=1,
        help=f"torch CPU threads per training, 1 to {MAX_THREADS}; results depend on it (default: 1)",
    )
    table.add_argument(
        "--jobs",
        type=_positive_int("--jobs", MAX_THREADS),
        default=None,
        help=f"parallel worker processes, 1 to {MAX_THREADS}; the table does not depend on it "
        "(default: one per core, up to the number of trainings)",
    )
    table.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786 (pip install 'vaetut[dask]'); "
        "the table does not depend on it",
    )
    table.add_argument(
        "--data",
        choices=("embedded", "full"),
        default="embedded",
        help="embedded: the 4,000/1,000-image MNIST subset in the package; full: the 60,000/10,000 MNIST, "
        "downloaded once into a cache (default: embedded)",
    )
    table.add_argument(
        "--csv", metavar="PATH", help="also write the table as CSV (columns beta,C,U,S,V,ratio; seed too with --seeds)"
    )
    return parser


def _csv_problem(path: Path) -> str | None:
    """Why the CSV cannot be written to path, or None if it can (checked before any training)."""
    path = Path(os.path.realpath(path))  # a symlink is written through: check its target
    if path.is_dir():
        return "it is a directory"
    if path.exists():
        return None if os.access(path, os.W_OK) else "permission denied"
    parent = path.parent
    if not parent.is_dir():
        return f"no such directory: {parent}"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the directory {parent} is not writable"
    return None


def _can_encode(stream, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _shown(table, seeds, unicode: bool) -> str:
    """The table as printed: one row per beta, the mean +- sd over the seeds when there are several."""
    from .plots import ASCII_LABELS, LABELS, typeset

    dash = "—" if unicode else "-"
    if not seeds or len(seeds) == 1:
        return typeset(table, ascii=not unicode).to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep=dash)
    columns = ["C", "U", "S", "V", "ratio"]
    groups = table.groupby("beta", sort=False)[columns]
    mean, sd = groups.mean(), groups.std(ddof=1)  # the sample sd over the seeds
    mean["V"] = 0.0 - mean["V"]  # the slides print -<V>; its sd is that of <V>
    pm = " ± " if unicode else " +- "
    labels = LABELS if unicode else ASCII_LABELS
    shown = {labels["beta"]: [f"{b:.3f}" for b in mean.index]}
    for c in columns:
        shown[labels[c]] = [dash if m != m else f"{m:.3f}{pm}{d:.3f}" for m, d in zip(mean[c], sd[c])]
    import pandas as pd

    return pd.DataFrame(shown).to_string(index=False)


def _sweep(args, unicode: bool):
    """Run the sweep and print its table: (table, 0), or (None, exit status) after a one-line error."""
    import torch  # only once the arguments are fine

    from .data import load_mnist
    from .experiments import WorkerDied, beta_sweep, trainings

    seeds = args.seeds if args.seeds and len(args.seeds) > 1 else None
    seed = args.seeds[0] if args.seeds and len(args.seeds) == 1 else args.seed
    start = time.perf_counter()
    try:
        data = {}
        if args.data == "full":
            data = {
                split: load_mnist(source="full", split=split, dtype=torch.float64)[0] for split in ("train", "test")
            }
        table = beta_sweep(
            args.betas,
            epochs=args.epochs,
            latent_dim=args.latent_dim,
            seed=seed,
            seeds=seeds,
            threads=args.threads,
            n_jobs=args.jobs,
            scheduler=args.scheduler,
            **data,
        )
    except (ValueError, TypeError, ImportError) as error:  # the user's to fix: before any training
        print(f"python -m vaetut: error: {_first_line(error)}", file=sys.stderr)
        return None, 2
    except (WorkerDied, ConnectionError, OSError) as error:
        print(f"python -m vaetut: error: {_first_line(error)}", file=sys.stderr)
        return None, 1
    print(_shown(table, seeds, unicode))
    n = trainings(args.betas, seeds)
    where = f"scheduler={args.scheduler}" if args.scheduler else f"jobs={args.jobs or 'auto'}"
    which = f"seeds={' '.join(map(str, seeds))} (mean {'±' if unicode else '+-'} sd)" if seeds else f"seed={seed}"
    print(
        f"\n{n} training{'' if n == 1 else 's'} in {time.perf_counter() - start:.1f} s (beta = 0 is set, not trained; "
        f"epochs={args.epochs}, D={args.latent_dim}, {which}, threads={args.threads}, {where})"
    )
    return table, 0


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a job scheduler's time limit), handled as Ctrl-C is: workers terminated, one line."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    unicode = _can_encode(sys.stdout, _UNICODE_SAMPLE)
    for stream in (sys.stdout, sys.stderr):  # a message with a β never crashes an ASCII console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    if args.csv is not None:
        problem = _csv_problem(Path(args.csv))
        if problem:
            print(f"python -m vaetut: error: cannot write --csv {args.csv}: {problem}", file=sys.stderr)
            return 2
    if args.jobs is not None and args.scheduler is not None:
        print(
            "python -m vaetut: error: give --jobs (local workers) or --scheduler (a Dask cluster), not both",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        table, status = _sweep(args, unicode)
    except KeyboardInterrupt as stop:  # the sweep's workers are terminated by now; the CSV is untouched
        terminated = isinstance(stop, _Terminated)
        print(f"python -m vaetut: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    if status:
        return status
    if args.csv is not None:
        try:  # through the path, never replacing what is there (a FIFO, a device, a symlink, a file's mode)
            with open(args.csv, "w", encoding="utf-8", newline="") as f:
                f.write(table.to_csv(index=False))
        except OSError as error:
            print(f"python -m vaetut: error: cannot write --csv {args.csv}: {error.strerror or error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
