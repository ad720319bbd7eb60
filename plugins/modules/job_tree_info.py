#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: job_tree_info
short_description: The EAS task hierarchy with attempt counts per task
version_added: 0.1.0
description:
  - Lists the task hierarchy (parent, then its children ordered by task id), each task with
    its job name, task type, task id and counts of queued, running, stalled, done and failed
    attempts.
  - Replaces the prototype's C(diagnostics/display_job_tree.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only show the tasks of this job.
    type: str
  max_depth:
    description:
      - Number of levels to show (1 shows only the root tasks). Deeper tasks are cut off and
        the table says how many were hidden. Default every level.
    type: int
  running_only:
    description:
      - Only keep the branches that hold queued or running work.
    type: bool
    default: false
  offset:
    description:
      - Skip this many rows of the tree (in display order) and return one page from there;
        the result's RV(next_offset) is where the next page starts. Giving O(offset) or
        O(limit) reads only that page from the database, so a page of a job with a million
        tasks costs what a page of a small one does.
      - Default the whole tree (or, with only O(limit), the first page).
    type: int
  limit:
    description:
      - Rows per page (at least 1). With only O(offset), pages of 100 rows.
    type: int
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
seealso:
  - module: plato.eas.progress_info
"""

EXAMPLES = r"""
- name: Top two levels of one job
  plato.eas.job_tree_info:
    job_name: demo
    max_depth: 2
  register: tree

- name: Print it
  ansible.builtin.debug:
    msg: "{{ tree.table.splitlines() }}"

- name: The tree of a big job, 500 rows at a time (the next page starts at next_offset)
  plato.eas.job_tree_info:
    job_name: demo
    offset: "{{ next_page | default(0) }}"
    limit: 500
  register: page

# Ad hoc:
#   ansible localhost -m plato.eas.job_tree_info -a 'running_only=true'
"""

RETURN = r"""
rows:
  description: One entry per task shown, in display order.
  returned: always
  type: list
  elements: dict
  sample:
    - {"depth": 0, "task_id": 1, "parent_id": null, "job_name": "demo",
       "task_type": "execution_chain", "queued": 0, "running": 0, "stalled": 0, "done": 1,
       "failed": 0, "hidden": 0}
hidden_tasks:
  description: Number of tasks cut off by O(max_depth).
  returned: always
  type: int
  sample: 0
truncated:
  description: Whether O(max_depth) cut off any task.
  returned: always
  type: bool
  sample: false
next_offset:
  description: Where the next page starts; null on the last page.
  returned: when O(offset) or O(limit) is given
  type: int
  sample: 500
table:
  description: The tree as a text table (children indented under their parent).
  returned: always
  type: str
  sample: |-
    Task                          Id  Queued  Running  Stalled  Done  Failed
    demo/execution_chain          1   0       0        0        1     0
     | demo/null                  2   0       0        0        1     0
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    job_name=dict(type="str"),
    max_depth=dict(type="int"),
    running_only=dict(type="bool", default=False),
    offset=dict(type="int"),
    limit=dict(type="int"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute(
        "report", "job_tree",
        options=("job_name", "max_depth", "running_only", "offset", "limit"), check_mode=False)


if __name__ == "__main__":
    main()
