"""Install the third-party collections the playbooks need into DEST/ansible_collections.

Galaxy cannot be reached from the project's machines, but the `ansible` bundle on PyPI ships
kubernetes.core and friends; we download that one pinned wheel (no dependencies) and extract
only the collection folders named in pyproject.toml's [tool.plato_eas] table.
"""

import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path


def main(dest: str) -> None:
    conf = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["plato_eas"]
    root = Path(dest)
    stamp = root / f".{conf['collections-bundle']}"
    wanted = [f"ansible_collections/{c}/" for c in conf["collections"]]
    if stamp.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp,
             conf["collections-bundle"]],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if any(m.startswith(w) for w in wanted)]
            zf.extractall(root, members)
    stamp.touch()
    print(f"collections {', '.join(conf['collections'])} installed in {root}")


if __name__ == "__main__":
    main(sys.argv[1])
