"""The Dockerfile and .dockerignore, checked statically (no Docker engine runs here).

What can be checked without building: two stages on a slim Python base pinned by tag, a wheel built
and installed into a venv in the builder, only that venv copied into the final image, a numeric
non-root user, `azbackup run` as the entrypoint, no secret-looking ENV or ARG, no compilers in the
final stage, and a build context that holds what the builder copies and nothing else.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> list[Stage]:
    """Dockerfile instructions by stage: comments dropped, continuation lines joined."""
    logical, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, args))
        else:
            assert keyword == "ARG", f"only ARG may come before the first FROM, not {keyword}"
    return stages


STAGES = parse((REPO / "Dockerfile").read_text())
BUILDER, FINAL = STAGES[0], STAGES[-1]


def env_names(stage: Stage) -> list[str]:
    names = []
    for args in stage.all("ENV"):
        for word in shlex.split(args):
            names.append(word.split("=", 1)[0])
    return names


def test_two_stages_on_a_slim_python_base_pinned_by_tag() -> None:
    assert len(STAGES) == 2
    assert BUILDER.name == "builder"
    for stage in STAGES:
        repository, _, tag = stage.image.partition(":")
        assert repository == "python", stage.image
        assert tag.startswith("3.11"), stage.image
        assert "slim" in tag, stage.image
        assert tag != "latest"


def test_builder_makes_a_wheel_and_installs_it_into_a_venv() -> None:
    run = " && ".join(BUILDER.all("RUN"))
    assert re.search(r"pip wheel .*--wheel-dir /wheels", run)
    assert "python -m venv /opt/venv" in run
    assert re.search(r"/opt/venv/bin/pip install /wheels/\*\.whl", run)


def test_final_stage_copies_only_the_venv_from_the_builder() -> None:
    assert FINAL.all("COPY") == ["--from=builder /opt/venv /opt/venv"]
    assert FINAL.all("ADD") == []


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = FINAL.all("USER")
    assert len(users) == 1
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    # The user comes last: nothing after it runs as root.
    assert FINAL.instructions.index(Instruction("USER", users[0])) > max(
        i for i, ins in enumerate(FINAL.instructions) if ins.keyword in ("RUN", "COPY"))


def test_chart_runs_the_user_the_image_declares() -> None:
    values = yaml.safe_load((REPO / "charts" / "azbackup-operator" / "values.yaml").read_text())
    uid, _, gid = FINAL.all("USER")[0].partition(":")
    assert values["securityContext"]["runAsUser"] == int(uid)
    assert values["securityContext"]["runAsGroup"] == int(gid)


def test_entrypoint_is_azbackup_run_in_exec_form() -> None:
    assert [json.loads(e) for e in FINAL.all("ENTRYPOINT")] == [["azbackup", "run"]]
    assert FINAL.all("CMD") == []


def test_python_does_not_write_bytecode_and_does_not_buffer() -> None:
    env = dict(w.split("=", 1) for args in FINAL.all("ENV") for w in shlex.split(args))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")


SECRETISH = re.compile(r"SECRET|PASSW|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|CERT_?PASS", re.I)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name or "final")
def test_no_env_or_arg_looks_like_a_secret(stage: Stage) -> None:
    args = [a.split("=", 1)[0] for a in stage.all("ARG")]
    assert [n for n in env_names(stage) + args if SECRETISH.search(n)] == []


COMPILERS = ("gcc", "g++", "cc", "clang", "build-essential", "make", "cmake", "rustc", "cargo", "python3-dev")


def test_final_stage_installs_no_compilers_and_no_packages() -> None:
    for run in FINAL.all("RUN"):
        words = set(re.split(r"[\s;&|]+", run))
        assert not words & set(COMPILERS), run
        assert "apt-get" not in words, run
        assert "pip" not in words, run


# -- .dockerignore ------------------------------------------------------------------------------------

def glob_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex: `*` and `?` stay within a path segment, `**` crosses them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per .dockerignore line, in order; Docker's last matching pattern wins."""
    patterns = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append((line.startswith("!"), glob_regex(line.lstrip("!").strip("/"))))
    return patterns


def in_context(path: str) -> bool:
    """Whether `docker build` sends this repository path to the daemon (a pattern matching a parent
    directory matches everything below it, as in Docker's pattern matcher)."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in dockerignore_patterns():
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negated
    return not excluded


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/config", "tests/unit/test_dockerfile.py", "tests/integration/conftest.py",
    ".pytest_cache/v/cache/nodeids", ".mypy_cache/3.11/azbackup/cli.meta.json", ".ruff_cache/CACHEDIR.TAG",
    ".hypothesis/examples/x", "operator/azbackup/__pycache__/cli.cpython-311.pyc",
    "operator/azbackup_operator.egg-info/PKG-INFO", "azbackup_operator.egg-info/PKG-INFO",
    "charts/azbackup-operator/values.yaml", "bench/run.py", ".env", "kubeconfig", "Dockerfile",
])
def test_context_leaves_out(path: str) -> None:
    assert not in_context(path)


def test_context_holds_everything_the_builder_copies() -> None:
    sources = []
    for args in BUILDER.all("COPY"):
        words = [w for w in args.split() if not w.startswith("--")]
        sources += words[:-1]
    assert sources, "the builder copies nothing"
    for source in sources:
        path = REPO / source
        assert path.exists(), source
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        wanted = [p.relative_to(REPO).as_posix() for p in files
                  if "__pycache__" not in p.parts and not p.name.endswith(".pyc")]
        assert wanted, source
        assert [p for p in wanted if not in_context(p)] == [], source


def test_context_holds_what_pyproject_builds_from() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert in_context(project["project"]["readme"])
    for where in project["tool"]["setuptools"]["packages"]["find"]["where"]:
        assert in_context(f"{where}/x.py"), where
        assert any(where in args.split() or f"{where}" in args for args in BUILDER.all("COPY")), where
