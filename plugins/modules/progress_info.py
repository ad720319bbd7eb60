#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: progress_info
short_description: Progress summary of the EAS pipeline per task type
version_added: 0.1.0
description:
  - For each task type, counts the tasks that are waiting, queued, stalled, running, done and
    failed, with the percentage of that type, plus a total line.
  - A task is counted in the state of its latest attempt (waiting when it has none); an
    attempt is stalled when it is running but its heartbeat is older than
    O(max_heartbeat_age) seconds.
  - Replaces the prototype's C(diagnostics/progress_summary.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only count the tasks of this job.
    type: str
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
seealso:
  - module: plato.eas.job_tree_info
"""

EXAMPLES = r"""
- name: Progress of one job
  plato.eas.progress_info:
    job_name: demo
  register: progress

- name: Print it as the prototype did
  ansible.builtin.debug:
    msg: "{{ progress.table.splitlines() }}"

# Ad hoc, from a checkout (inventories/local sets the interpreter):
#   ansible localhost -m plato.eas.progress_info -a 'job_name=demo db_path=/srv/eas/eas.sqlite'
"""

RETURN = r"""
rows:
  description: One entry per task type, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - {"task_type": "null", "total": 4, "waiting": 0, "waiting_pct": 0.0, "queued": 1,
       "queued_pct": 25.0, "stalled": 0, "stalled_pct": 0.0, "running": 1, "running_pct": 25.0,
       "done": 2, "done_pct": 50.0, "failed": 0, "failed_pct": 0.0}
total:
  description: The same counts summed over every task type.
  returned: always
  type: dict
  sample: {"task_type": "Total", "total": 4, "done": 2, "done_pct": 50.0}
table:
  description: The summary as a text table, one line per task type plus the total.
  returned: always
  type: str
  sample: |-
    Task   Waiting  Queued   Stalled  Running  Done     Failed  Total
    null   0 (0%)   1 (25%)  0 (0%)   1 (25%)  2 (50%)  0 (0%)  4
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(job_name=dict(type="str"))


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "progress", options=("job_name",),
                                     check_mode=False)


if __name__ == "__main__":
    main()
