#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: task_info
short_description: One EAS task whole - description, files, metadata, attempts and logs
version_added: 0.1.0
description:
  - Everything recorded about one task - its type, job, name, parent and description; the
    files it reads and writes, each with every version's size, MD5 and whether it passed
    QC; its input metadata; every attempt with its host, times, state, the reason it failed
    or stalled, run times and output metadata; and the log messages of those attempts at any
    severity (at most 1000, oldest first).
  - The same facts as the dashboard's task page and C(eas task show ID).
  - An unknown task id fails.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  task_id:
    description:
      - The task's id (the C(task_id) of M(plato.eas.jobs_info), M(plato.eas.errors_info),
        M(plato.eas.logs_info) or M(plato.eas.job_tree_info) rows).
    type: int
    required: true
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
seealso:
  - module: plato.eas.logs_info
  - module: plato.eas.errors_info
  - module: plato.eas.job_tree_info
"""

EXAMPLES = r"""
- name: Everything about task 42
  plato.eas.task_info:
    task_id: 42
  register: task

- name: Why each of its attempts ended as it did
  ansible.builtin.debug:
    msg: "{{ task.rows[0].attempts | map(attribute='reason') | list }}"

# Ad hoc, from a checkout (inventories/local sets the interpreter):
#   ansible localhost -m plato.eas.task_info -a 'task_id=42'
"""

RETURN = r"""
rows:
  description: One entry, the task, with its C(inputs) and C(outputs) (each file with its
    C(versions)), C(metadata), C(attempts) and C(logs).
  returned: always
  type: list
  elements: dict
  sample:
    - {"task_id": 9, "task_type": "null", "job_name": "demo", "task_name": "synthesise",
       "parent_id": 5, "state": "done", "children": 0,
       "description": {"task": "null", "name": "synthesise"},
       "metadata": {"size": 0.0445, "size_index": 0},
       "inputs": [{"semantic_type": "lightcurve", "path": "demo/raw.lc",
                   "versions": [{"version_id": 1, "attempt_id": 2, "size": 77,
                                 "md5": "88de667fe89043d5ce9e95885c66e580",
                                 "passed_qc": true}]}],
       "outputs": [],
       "attempts": [{"attempt_id": 9, "host": "node1/3215", "state": "done",
                     "start": "2026-12-01 17:43:44", "end": "2026-12-01 17:43:44",
                     "reason": null, "wall_clock": 0.0139}],
       "logs": [{"time": "2026-12-01 17:43:44", "attempt_id": 9, "severity": 20,
                 "level": "INFO", "message": "null task wrote 1 output(s)"}]}
logs_truncated:
  description: Whether the task logged more than the 1000 messages returned.
  returned: always
  type: bool
  sample: false
table:
  description: The task as text - its fields, files, input metadata, attempts and logs.
  returned: always
  type: str
  sample: |-
    Task
    Field              Value
    Task               9
    Type               null
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(task_id=dict(type="int", required=True))


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "task", options=("task_id",), check_mode=False)


if __name__ == "__main__":
    main()
