"""AWX readiness (SPEC §12): the execution-environment files render with ansible-builder, carry
runtime needs only, agree with pyproject.toml's pins; the AWX credential type injects exactly
the EAS_* variables the modules read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from eas_ansible_helpers import ROOT, run

TEST_TOOLS = ("pytest", "ruff", "yamllint", "ansible-lint", "molecule", "ansible-builder",
              "kmock", "kubernetes-validate", "pytest-xdist", "pytest-asyncio")


def requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines()
            if line.split("#")[0].strip()]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    return {re.split(r"[=<>!~ ]", s, maxsplit=1)[0].lower(): s for s in specs}


def test_ee_requirements_are_the_pinned_runtime_dependencies() -> None:
    lines = requirement_lines(ROOT / "meta/ee-requirements.txt")
    pins = pyproject_pins()
    names = [re.split(r"[=<>!~ ]", line, maxsplit=1)[0].lower() for line in lines]
    for line, name in zip(lines, names, strict=True):
        assert name in pins, f"{name} is not a dependency in pyproject.toml"
        assert line == pins[name], f"{line} differs from pyproject.toml's {pins[name]}"
        assert name not in TEST_TOOLS, f"{name} is a test tool"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"] + project["optional-dependencies"]["mysql"] \
            + project["optional-dependencies"]["amqp"]:
        assert spec in lines, f"runtime dependency {spec} missing from ee-requirements.txt"


def test_collection_ee_metadata_points_at_the_files() -> None:
    meta = yaml.safe_load((ROOT / "meta/execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt",
                                    "system": "meta/ee-bindep.txt"}


def test_introspection_finds_the_collection_dependencies(tool_env: dict[str, str]) -> None:
    out = run(["ansible-builder", "introspect", str(ROOT / "collections")], tool_env,
              ROOT).stdout
    data = yaml.safe_load(out.split("---", 1)[1])
    python = " ".join(data["python"])
    for name in ("jsonschema-rs", "simpleeval", "PyMySQL", "pika"):
        assert f"{name}==" in python and "from collection plato.eas" in python
    assert any(line.startswith("mariadb-client [platform:dpkg]") for line in data["system"])


def test_ansible_builder_renders_the_build_context(tmp_path: Path,
                                                   tool_env: dict[str, str]) -> None:
    context = tmp_path / "context"
    run(["ansible-builder", "create", "-f", str(ROOT / "execution-environment.yml"),
         "--context", str(context), "--output-filename", "Containerfile"], tool_env, ROOT)
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-core==2.19.14" in containerfile
    assert "ansible-runner==2.4.3" in containerfile
    assert "COPY _build/plato-eas /tmp/plato-eas" in containerfile
    assert "pip install --no-cache-dir --no-deps /tmp/plato-eas" in containerfile
    assert "ansible-galaxy collection install --offline --no-deps" in containerfile
    build = context / "_build"
    assert requirement_lines(build / "requirements.txt") == requirement_lines(
        ROOT / "meta/ee-requirements.txt")
    assert "kubernetes.core" in (build / "requirements.yml").read_text()
    source = build / "plato-eas"
    for needed in ("pyproject.toml", "galaxy.yml", "src/plato_eas/actions.py",
                   "plugins/modules/schema.py", "meta/runtime.yml", "playbooks/demo.yml"):
        assert (source / needed).is_file(), needed


def test_credential_type_injects_the_module_fallback_variables() -> None:
    ctype = yaml.safe_load((ROOT / "docs/awx/credential_type.yml").read_text())
    fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
    env = ctype["injectors"]["env"]
    assert set(env) == {"EAS_" + name.upper() for name in fields}
    for name, template in env.items():
        assert template == "{{ " + name[4:].lower() + " }}"
    assert {n for n, f in fields.items() if f.get("secret")} == {"db_password", "mq_password"}
    assert ctype["kind"] == "cloud"
    # Every injected name is a connection option of the modules, read through env_fallback.
    common = (ROOT / "plugins/module_utils/common.py").read_text()
    for name in fields:
        assert f'("{name}", ' in common, name
