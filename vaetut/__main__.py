"""Command line: ``python -m vaetut beta-table`` prints the β table of `vaetut.experiments.beta_sweep`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vaetut", description="Companion tools of the vaetut book.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table = commands.add_parser(
        "beta-table",
        help="train one VAE per β on the embedded MNIST and print ⟨C⟩ ⟨U⟩ ⟨S⟩ −⟨V⟩ on held-out images",
        description="Train one VAE per β on the embedded MNIST (no network) and print the β table: held-out "
        "averages of C, U, S and −V, and the ratio −⟨V⟩/2(⟨U⟩+⟨S⟩). About 35 s on one core with the defaults.",
    )
    table.add_argument("--betas", type=float, nargs="+", default=[0, 0.5, 1, 1.5, 2, 2.5, 3], metavar="β",
                       help="the β values (default: 0 0.5 1 1.5 2 2.5 3)")
    table.add_argument("--epochs", type=int, default=20, help="training epochs per β (default: 20)")
    table.add_argument("--latent-dim", type=int, default=20, help="latent dimensions D (default: 20)")
    table.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    table.add_argument("--threads", type=int, default=1, help="torch CPU threads; results depend on it (default: 1)")
    table.add_argument("--csv", metavar="PATH", help="also write the table as CSV to PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.csv and not Path(args.csv).parent.is_dir():
        print(f"error: cannot write {args.csv}: no such directory", file=sys.stderr)
        return 2
    from .experiments import beta_sweep  # import torch only once the arguments are fine

    start = time.perf_counter()
    try:
        table = beta_sweep(args.betas, epochs=args.epochs, latent_dim=args.latent_dim, seed=args.seed,
                           threads=args.threads)
    except (ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from .plots import typeset

    print(typeset(table).to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep="—"))
    print(f"\n{len(table)} trainings in {time.perf_counter() - start:.1f} s "
          f"(epochs={args.epochs}, D={args.latent_dim}, seed={args.seed}, threads={args.threads})")
    if args.csv:
        _write_atomically(Path(args.csv), table.to_csv(index=False))
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file beside it: a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    sys.exit(main())
