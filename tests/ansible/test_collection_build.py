"""`ansible-galaxy collection build` makes an installable tarball: install it into an empty
collections path and run a module and a playbook from there, outside the checkout."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import yaml
from eas_ansible_helpers import ROOT, run

MODULES = set(yaml.safe_load((ROOT / "meta/runtime.yml").read_text())["action_groups"]["eas"])
VERSION = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]


def test_build_install_and_run(tmp_path: Path, tool_env: dict[str, str]) -> None:
    dist = tmp_path / "dist"
    run(["ansible-galaxy", "collection", "build", "--output-path", str(dist), str(ROOT)],
        tool_env, ROOT)
    tarball = dist / f"plato-eas-{VERSION}.tar.gz"
    assert tarball.exists()

    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "plato"
    assert manifest["collection_info"]["name"] == "eas"
    assert "kubernetes.core" in manifest["collection_info"]["dependencies"]
    for module in MODULES:
        assert f"plugins/modules/{module}.py" in names
    for required in ("meta/runtime.yml", "plugins/module_utils/common.py",
                     "plugins/doc_fragments/connection.py", "playbooks/demo.yml",
                     "playbooks/vars/connection.yml", "examples/chains/demo.json",
                     "pyproject.toml", "src/plato_eas/actions.py", "docs/ansible.md"):
        assert required in names, required
    for name in names:
        assert not name.startswith((".venv", ".git/", "collections", "tests/output")), name
        assert "__pycache__" not in name and not name.endswith(".sqlite"), name

    installed = tmp_path / "installed"
    run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps",
         "-p", str(installed), str(tarball)], tool_env, tmp_path)
    assert (installed / "ansible_collections/plato/eas/plugins/modules/schema.py").is_file()

    # Outside the checkout: no ansible.cfg, nothing but the installed collection.
    env = dict(tool_env, ANSIBLE_COLLECTIONS_PATH=str(installed),
               EAS_DB_PATH=str(tmp_path / "eas.sqlite"), EAS_DATA_DIR=str(tmp_path / "data"))
    doc = run(["ansible-doc", "plato.eas.progress_info"], env, tmp_path).stdout
    assert str(installed) in doc and "job_name" in doc

    created = run(["ansible", "localhost", "-m", "plato.eas.schema"], env, tmp_path).stdout
    assert "CHANGED" in created
    again = run(["ansible", "localhost", "-m", "plato.eas.schema"], env, tmp_path).stdout
    assert "SUCCESS" in again and '"changed": false' in again

    played = run(["ansible-playbook", "plato.eas.diagnostics", "-e",
                  '{"eas_reports": ["progress", "queue"]}'], env, tmp_path).stdout
    assert "Show the progress summary" in played and "failed=0" in played

    # The demo by its FQCN: its chain comes from the installed collection's examples/.
    demo = run(["ansible-playbook", "plato.eas.demo", "-e", "eas_run_timeout=300"], env,
               tmp_path).stdout
    assert "failed=0" in demo and "/execution_chain" in demo
