"""Command line: ``python -m vaetut beta-table`` prints the beta table of `vaetut.experiments.beta_sweep`.

Every argument is checked before any training: a user error is one line on stderr and exit status 2.
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
        description="Train one VAE per beta on the embedded MNIST (no network) and print the beta table: held-out "
        "averages of C, U, S and -V, and the ratio -<V>/2(<U>+<S>). About 70 s on one core with the defaults "
        "(69.8 s measured on the development machine: the README's Figures).",
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
    table.add_argument("--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1 (default: 0)")
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
        "(default: one per core, up to the number of betas)",
    )
    table.add_argument("--csv", metavar="PATH", help="also write the table as CSV (columns beta,C,U,S,V,ratio) to PATH")
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
    from .experiments import beta_sweep  # torch only once the arguments are fine
    from .plots import typeset

    start = time.perf_counter()
    try:
        table = beta_sweep(
            args.betas,
            epochs=args.epochs,
            latent_dim=args.latent_dim,
            seed=args.seed,
            threads=args.threads,
            n_jobs=args.jobs,
        )
    except (ValueError, TypeError) as error:
        print(f"python -m vaetut: error: {error}", file=sys.stderr)
        return 2
    shown = typeset(table, ascii=not unicode)
    print(shown.to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep="—" if unicode else "-"))
    print(
        f"\n{len(table)} trainings in {time.perf_counter() - start:.1f} s "
        f"(epochs={args.epochs}, D={args.latent_dim}, seed={args.seed}, threads={args.threads})"
    )
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
