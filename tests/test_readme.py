"""The README's promises: CI runs exactly its test command, and its Python example runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_block_after(heading: str) -> str:
    match = re.search(re.escape(heading) + r".*?```bash\n(.*?)\n```", README, flags=re.S)
    assert match, f"no bash block after {heading!r} in README.md"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command():
    command = bash_block_after("**Run the tests**")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in ci_lines


def test_readme_build_command_builds_with_warnings_as_errors():
    assert bash_block_after("**Build the book**").endswith("jupyter-book build . -W -n --keep-going")


def test_readme_python_example_runs(monkeypatch, capsys):
    import pandas as pd

    import vaetut.experiments

    example = re.search(r"## The package\n\n```python\n(.*?)\n```", README, flags=re.S).group(1)
    calls = []

    def sweep(*args, **kwargs):  # the full sweep is tested elsewhere; here only the example's call and printing
        calls.append((args, kwargs))
        return pd.DataFrame([[1.0, 20.0, 4.0, 3.0, -14.0, 1.0]], columns=list(vaetut.experiments.COLUMNS))

    monkeypatch.setattr(vaetut.experiments, "beta_sweep", sweep)
    exec(compile(example, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert calls == [((), {})]
    assert out[0].startswith("{'loss': ") and all(f"'{t}': " in out[0] for t in "CUSV")
    assert out[1].split() == ["β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩", "ratio"]
    assert out[2].split()[-1] == "1.0" and "14.0" in out[2].split()


def test_readme_your_own_data_runs_as_written(monkeypatch, tmp_path, capsys):
    import warnings

    example = re.search(r"## Your own data\n.*?```python\n(.*?)\n```", README, flags=re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as written, nothing collapses
        exec(compile(example, "README.md", "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[0] == "loss" and out[1].split()[0] == "val_loss"
    assert out[3].split()[0] == "bce" and out[4] == "0.7"  # the numbers the comments quote
    assert (tmp_path / "digits_vae.pt").exists() and namespace["samples"].shape == (20, 64)
    assert max(namespace["mse"].latent_kl(namespace["y_train"])) > 0.1  # β = 20 keeps directions alive
    assert len(namespace["figure"].axes) == 20


@pytest.mark.parametrize(
    "module",
    ["energies", "models", "latent", "conv", "saving", "data", "download", "train", "collapse", "experiments"]
    + ["parallel", "likelihood", "pca", "sampling", "aggregate", "elbo_gap", "spread", "ratedistortion", "probe"]
    + ["plots", "widgets"],
)
def test_every_module_in_the_readme_table_exists(module):
    assert f"| `{module}` |" in README
    assert (ROOT / "vaetut" / f"{module}.py").exists()
