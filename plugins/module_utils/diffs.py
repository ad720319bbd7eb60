# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``--diff`` shows for the modules that change the database's structure: one line per
table, task type, worker container or queue added (+), dropped (-) or updated (~)."""


def schema_diff(result):
    lines = [f"+ table {name}" for name in result.get("created_tables") or []]
    lines += [f"- table {name}" for name in result.get("dropped_tables") or []]
    lines += [f"+ task type {name}" for name in result.get("task_types") or []]
    lines += [f"~ worker container {name}" for name in result.get("containers") or []]
    return {"prepared": "\n".join(lines)}


def queues_diff(result):
    before = result.get("previous_implementation")
    lines = []
    if before != result["implementation"]:
        lines.append(f"implementation: {before} -> {result['implementation']}")
    lines += [f"+ queue {name}" for name in result.get("declared") or []]
    lines += [f"~ queue {name} (priorities)" for name in result.get("upgraded") or []]
    return {"prepared": "\n".join(lines)}
