#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: errors_info
short_description: Every error and traceback logged by EAS tasks
version_added: 0.1.0
description:
  - Lists every log message of severity ERROR (40) or above recorded by task attempts,
    tracebacks included, with its time, job name and task type, oldest first.
  - Replaces the prototype's C(diagnostics/errors_list.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only the errors of this job.
    type: str
  task_type:
    description:
      - Only the errors of tasks of this type.
    type: str
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
seealso:
  - module: plato.eas.reschedule
"""

EXAMPLES = r"""
- name: Errors of one job
  plato.eas.errors_info:
    job_name: demo
  register: errors

- name: Fail the play when any task logged an error
  ansible.builtin.assert:
    that: errors.rows | length == 0
    fail_msg: "{{ errors.table }}"

# Ad hoc:
#   ansible localhost -m plato.eas.errors_info -a 'task_type=transit_search_bls'
"""

RETURN = r"""
rows:
  description: One entry per log message, oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - {"time": "2026-11-24 12:00:01", "timestamp": 1795003201.5, "job_name": "demo",
       "task_type": "error", "task_id": 5, "attempt_id": 5, "severity": 40,
       "message": "Traceback (most recent call last): ..."}
table:
  description: The messages as text, one block per message.
  returned: always
  type: str
  sample: "2026-11-24 12:00:01  demo  error  task 5  ERROR\nTraceback (most recent call last): ..."
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    job_name=dict(type="str"),
    task_type=dict(type="str"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "errors", options=("job_name", "task_type"),
                                     check_mode=False)


if __name__ == "__main__":
    main()
