"""Every external command the project's shell scripts run is declared in
``scripts/require_tools.sh`` (which installs what a fresh machine lacks).

A script that called ``rsync`` without installing it once passed here and failed on a new
machine; this test fails as soon as a script names a command that is neither a shell builtin,
a function of its own, a venv tool, nor declared with its Debian package.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(ROOT.glob("scripts/*.sh")) + [ROOT / ".ci" / "run"]

KEYWORDS = set("if then else elif fi esac while until do done in function time coproc { } [[ ]] "
               "! return exit".split())
# Provided by the project's venv (scripts/setup.sh) or the script's own Python.
VENV_TOOLS = {"python", "pytest", "ansible-test", "ansible-playbook", "ansible-lint", "ruff",
              "yamllint", "molecule", "eas", "ansible-galaxy", "ansible"}


def builtins() -> set[str]:
    out = subprocess.run(["bash", "-c", "compgen -b"], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def declared() -> set[str]:
    out = subprocess.run(["bash", str(ROOT / "scripts/require_tools.sh"), "--list"],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines()}


def _without_heredocs(text: str) -> str:
    lines, out, end = text.splitlines(), [], None
    for line in lines:
        if end is not None:
            if line.strip() == end:
                end = None
            continue
        match = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if match:
            end = match.group(1)
        out.append(line)
    return "\n".join(out)


def _unquoted(text: str) -> str:
    """Quoted text is data: drop it, but keep the commands of ``$( )`` (also inside double
    quotes), each on lines of their own."""
    out: list[str] = []

    def plain(i: int, nested: bool) -> int:
        depth = 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                out.append(text[i:i + 2])
                i += 2
                continue
            if char == "'":
                i = text.find("'", i + 1)
                i = len(text) if i < 0 else i
                out.append(" ")
            elif char == '"':
                i = double(i + 1)
                out.append(" ")
            elif text.startswith("$(", i):
                out.append("\n")
                i = plain(i + 2, True)
                out.append("\n_ ")  # the rest of the line is arguments, not a command
            elif char == "(":
                depth += 1
                out.append(char)
            elif char == ")" and nested and depth == 0:
                return i
            else:
                depth -= char == ")"
                out.append(char)
            i += 1
        return i

    def double(i: int) -> int:
        while i < len(text) and text[i] != '"':
            if text[i] == "\\":
                i += 1
            elif text.startswith("$(", i):
                out.append("\n")
                i = plain(i + 2, True)
                out.append("\n_ ")
            i += 1
        return i

    plain(0, False)
    return "".join(out)


def commands(text: str) -> set[str]:
    """First words of the simple commands of a shell script (a heuristic, tuned to ours)."""
    sourced_files = re.findall(r"^\s*(?:\.|source)\s+\S*?(scripts/[\w.-]+\.sh)", text, re.M)
    text = _without_heredocs(text)
    text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())
    text = _unquoted(text)
    text = re.sub(r"^\s*\(?[\w|*.-]+\)", "", text, flags=re.M)  # case labels
    text = re.sub(r"\bin\s+[\w|*.-]+\)", "in ", text)  # case x in label)
    text = re.sub(r"\+?=\([^)]*\)", "=_", text)  # array assignments
    functions = set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)", text, re.M))
    for sourced in sourced_files:
        functions |= set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)",
                                    (ROOT / sourced).read_text(), re.M))
    found = set()
    for segment in re.split(r"\n|;|\|\||&&|\||\$\(|\(|\)|`|\bthen\b|\bdo\b|\belse\b|\{", text):
        words = segment.split()
        if words and words[0] in ("for", "select", "case"):
            continue
        while words and (re.match(r"^\w+=", words[0]) or words[0] in KEYWORDS
                         or words[0] in ("exec", "command", "!")):
            words = words[1:]
        if not words:
            continue
        word = words[0].strip("\"")
        if not re.match(r"^[a-z][\w.+-]*$", word) or word in functions:
            continue
        found.add(word)
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_a_script_runs_is_declared(script: Path) -> None:
    used = commands(script.read_text())
    missing = sorted(used - builtins() - declared() - VENV_TOOLS)
    assert not missing, (f"{script.relative_to(ROOT)} runs {missing}: declare them (with their "
                         "Debian package) in scripts/require_tools.sh")


def test_the_heuristic_sees_a_new_command() -> None:
    """The check is not vacuous: an undeclared command in a script is found."""
    script = 'copy() {\n  rsync -a --delete "$1/" "$2/"\n}\nx=$(jq .a f.json) && copy a b\n'
    assert commands(script) - builtins() - declared() == {"rsync", "jq"}


def test_the_test_command_installs_the_declared_tools() -> None:
    text = (ROOT / "scripts/test.sh").read_text()
    assert "scripts/require_tools.sh" in text
