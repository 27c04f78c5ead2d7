"""The publishing pipeline at least privilege (issue 19): the GitHub Actions workflows pass zizmor, every action is
pinned to a commit, and no install can take a package from an index it was not meant to come from.

* zizmor (pinned in ``requirements.txt``) audits ``.github/workflows/`` offline, with no configuration file and no
  inline ``zizmor: ignore``; any finding at medium or above fails.
* Every ``uses:`` names a full 40-hex commit with its release tag in a comment (``# v4.2.2``); an action used twice
  is pinned the same way everywhere.
* Each place that installs the environment (both workflows and Binder's ``postBuild``) installs torch alone, from
  PyTorch's CPU wheel index alone, without dependencies, then ``requirements.txt`` from the default index alone,
  whose ``torch==X`` the installed ``X+cpu`` satisfies. No extra index, no find-links, no index variable.

No network: zizmor runs with ``--offline``; the files are read, not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's own index of CPU-only wheels
AT_LEAST_MEDIUM = {"Medium", "High"}  # zizmor's severities: Unknown, Informational, Low, Medium, High
# Where pip could be told of another source of packages, on its command line or in its environment.
INDEX_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index", "--trusted-host"}
INDEX_VARIABLES = re.compile(r"PIP_(EXTRA_)?INDEX_URL|PIP_FIND_LINKS|PIP_TRUSTED_HOST|PIP_NO_INDEX")
# pip options that take a value (the next word, unless written --option=value).
VALUED = INDEX_OPTIONS - {"--no-index"} | {"-r", "--requirement", "-c", "--constraint", "--target", "--prefix"}


def requirement_pin(name: str) -> str:
    """The version that requirements.txt pins ``name`` to (``name==version`` on a line of its own)."""
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    (version,) = re.findall(rf"^{re.escape(name)}==([^\s;#]+)", text, re.M | re.I)
    return version


def test_workflows_found():
    assert {path.name for path in WORKFLOWS} >= {"pages.yml", "tests.yml"}, [path.name for path in WORKFLOWS]


# ---------------------------------------------------------------------------------------------------------- zizmor


def zizmor(target: Path) -> list[dict]:
    """zizmor's findings on ``target`` (its JSON v1 format), offline, ignoring any zizmor.yml and inline ignores."""
    beside = Path(sys.executable).with_name("zizmor")
    executable = str(beside) if beside.exists() else shutil.which("zizmor")
    assert executable, "zizmor is not installed: it is pinned in requirements.txt (pip install -r requirements.txt)"
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True).stdout.split()
    assert version[-1] == requirement_pin("zizmor"), f"{' '.join(version)}, not requirements.txt's zizmor pin"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZIZMOR_", "GH_"))}
    command = [executable, "--offline", "--no-config", "--no-ignores", "--no-exit-codes", "--no-progress"]
    result = subprocess.run([*command, "--format", "json", str(target)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"zizmor failed ({result.returncode}):\n{result.stderr}"
    findings = json.loads(result.stdout)
    assert isinstance(findings, list), result.stdout[:500]
    return findings


def at_least_medium(findings: list[dict]) -> list[dict]:
    return [finding for finding in findings if finding["determinations"]["severity"] in AT_LEAST_MEDIUM]


def describe(findings: list[dict]) -> str:
    lines = []
    for finding in findings:
        (where, *_) = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"] or [None]
        place = ""
        if where:
            path = where["symbolic"]["key"]["Local"]["verbatim_path"]
            place = f" {path}:{where['concrete']['location']['start_point']['row'] + 1}: {where['concrete']['feature']}"
        lines.append(f"{finding['determinations']['severity']} {finding['ident']}:{place}")
    return "\n".join(lines)


def test_zizmor_finds_nothing_at_medium_or_above():
    serious = at_least_medium(zizmor(ROOT / ".github" / "workflows"))
    assert not serious, f"zizmor --offline .github/workflows/:\n{describe(serious)}"


def test_zizmor_flags_the_publishing_workflow_unlocked(tmp_path):
    """The same audit on pages.yml with its actions back on movable tags and checkout keeping its credentials:
    zizmor must report every such line at medium or above, or the test above would pass for nothing."""
    text = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    unlocked = re.sub(r"@[0-9a-f]{40} # (v\d+)\S*", r"@\1", text)
    unlocked = re.sub(r"\n\s+with:\n\s+persist-credentials: false\n", "\n", unlocked)
    assert unlocked.count("persist-credentials") == 0 and len(re.findall(r"@[0-9a-f]{40}", unlocked)) == 0
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "pages.yml").write_text(unlocked, encoding="utf-8")
    serious = at_least_medium(zizmor(tmp_path / ".github" / "workflows"))
    idents = [f["ident"] for f in serious]
    assert idents.count("unpinned-uses") == len(re.findall(r"^\s*(?:- )?uses:", text, re.M)), describe(serious)
    assert idents.count("artipacked") == text.count("actions/checkout@"), describe(serious)


# ------------------------------------------------------------------------------------------ permissions and pins


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_permissions_per_job(workflow):
    data = load(workflow)
    assert data.get("permissions") == {}, f"{workflow.name}: the workflow grants {data.get('permissions')!r}, not {{}}"
    for name, job in data["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{workflow.name}: job {name} does not state its permissions"


def uses_lines(workflow: Path) -> list[tuple[str, str, str | None]]:
    """(action, ref, comment) of every ``uses:`` line, as written."""
    pattern = re.compile(r"^\s*(?:-\s+)?uses:\s*([^\s@#]+)@([^\s#]+)\s*(?:#\s*(.*?))?\s*$")
    found = []
    for line in workflow.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*(?:-\s+)?uses:", line):
            match = pattern.match(line)
            assert match, f"{workflow.name}: cannot read {line.strip()!r}"
            found.append(match.groups())
    return found


def yaml_uses(workflow: Path) -> list[str]:
    data = load(workflow)
    jobs = data["jobs"].values()
    return [job["uses"] for job in jobs if "uses" in job] + [
        step["uses"] for job in jobs for step in job.get("steps", []) if "uses" in step
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_every_action_pinned_to_a_commit_with_its_tag(workflow):
    lines = uses_lines(workflow)
    # Every `uses` the YAML holds is on a line of its own, read above (none hidden in a flow mapping).
    assert sorted(yaml_uses(workflow)) == sorted(f"{action}@{ref}" for action, ref, _ in lines)
    for action, ref, comment in lines:
        assert not action.startswith(("./", "docker://")), f"{workflow.name}: {action} (a local or docker action)"
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{workflow.name}: {action}@{ref} is not pinned to a full commit"
        assert comment and re.fullmatch(r"v\d+(\.\d+){0,2}", comment), (
            f"{workflow.name}: {action}@{ref} has no release tag comment (`# v4.2.2`), but {comment!r}"
        )


def test_an_action_is_pinned_alike_everywhere():
    pins: dict[str, set[tuple[str, str | None]]] = {}
    for workflow in WORKFLOWS:
        for action, ref, comment in uses_lines(workflow):
            pins.setdefault(action, set()).add((ref, comment))
    assert pins and all(len(refs) == 1 for refs in pins.values()), {a: r for a, r in pins.items() if len(r) > 1}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_checkout_keeps_no_credentials(workflow):
    steps = [step for job in load(workflow)["jobs"].values() for step in job.get("steps", [])]
    checkouts = [step for step in steps if step.get("uses", "").startswith("actions/checkout@")]
    for step in checkouts:
        assert (step.get("with") or {}).get("persist-credentials") is False, f"{workflow.name}: {step}"


# ------------------------------------------------------------------------------------------------------ installs


def run_scripts(workflow: Path) -> str:
    jobs = load(workflow)["jobs"].values()
    return "\n".join(step["run"] for job in jobs for step in job.get("steps", []) if "run" in step)


def pip_installs(script: str) -> list[tuple[dict[str, list[str]], list[str]]]:
    """Each ``pip install`` of a shell script, as (options with their values, requirement specifiers)."""
    installs = []
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for command in re.split(r"&&|\|\||;", line.split(" #", 1)[0]):
            words = shlex.split(command)
            if "pip" not in [Path(word).name for word in words] or "install" not in words:
                continue
            options: dict[str, list[str]] = {}
            requirements: list[str] = []
            rest = iter(words[words.index("install") + 1 :])
            for word in rest:
                if word.startswith("-"):
                    name, _, value = word.partition("=")
                    options.setdefault(name, []).append(value or (next(rest) if name in VALUED else ""))
                else:
                    requirements.append(word)
            installs.append((options, requirements))
    return installs


# Every place that installs the book's environment.
INSTALLERS = [ROOT / ".github" / "workflows" / "pages.yml", ROOT / ".github" / "workflows" / "tests.yml"]
INSTALLERS.append(ROOT / "binder" / "postBuild")


def script_of(path: Path) -> str:
    return run_scripts(path) if path.parent.name == "workflows" else path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [*WORKFLOWS, INSTALLERS[-1]], ids=[path.name for path in [*WORKFLOWS, INSTALLERS[-1]]])
def test_no_install_from_another_index(path):
    """Anywhere: no index variable, no extra index; an install that names an index takes torch alone from
    PyTorch's CPU wheels, without its dependencies."""
    text = path.read_text(encoding="utf-8")
    assert not INDEX_VARIABLES.search(text), f"{path.name} sets {INDEX_VARIABLES.search(text).group()}"
    assert "extra-index" not in text, f"{path.name} names an extra index"
    for options, requirements in pip_installs(script_of(path)):
        if set(options) & INDEX_OPTIONS:
            assert set(options) & INDEX_OPTIONS == {"--index-url"}, f"{path.name}: {options}"
            assert options["--index-url"] == [TORCH_CPU_INDEX], f"{path.name}: {options}"
            assert requirements == [f"torch=={requirement_pin('torch')}+cpu"], f"{path.name}: {requirements}"
            assert "--no-deps" in options and "-r" not in options, f"{path.name}: {options}"


@pytest.mark.parametrize("path", INSTALLERS, ids=[path.name for path in INSTALLERS])
def test_torch_first_alone_then_requirements_from_the_default_index(path):
    torch = requirement_pin("torch")
    assert "+" not in torch, f"requirements.txt pins torch=={torch}: a version without a local label"
    installs = pip_installs(script_of(path))
    assert len(installs) == 2, f"{path.name}: {installs}"
    (torch_options, torch_requirements), (book_options, book_requirements) = installs
    # First, torch alone: the one index PyTorch's CPU wheels, no dependencies taken from it.
    assert torch_requirements == [f"torch=={torch}+cpu"], f"{path.name}: {torch_requirements}"
    assert torch_options.get("--index-url") == [TORCH_CPU_INDEX] and "--no-deps" in torch_options, torch_options
    # Then requirements.txt, from the default index alone. Its `torch==X` is satisfied by the installed X+cpu
    # (PEP 440: a specifier without a local label ignores the candidate's), so pip keeps that torch and
    # installs only its dependencies.
    assert not book_requirements and book_options.get("-r") == ["requirements.txt"], f"{path.name}: {installs[1]}"
    assert not set(book_options) & INDEX_OPTIONS, f"{path.name}: {book_options}"
    assert Version(f"{torch}+cpu") in SpecifierSet(f"=={torch}")


def test_requirements_name_no_index():
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    options = {line.split()[0].split("=")[0] for line in text.splitlines() if line.startswith("-")}
    assert not options & INDEX_OPTIONS, f"requirements.txt names another source of packages: {options}"
