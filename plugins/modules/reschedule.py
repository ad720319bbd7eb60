#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: reschedule
short_description: Queue a new attempt for every unfinished EAS task
version_added: 0.1.0
description:
  - Gives every task that has no successful attempt, and none queued or running, a new
    attempt on its queue - typically after fixing the cause of failures.
  - Naming a job cancelled by M(plato.eas.cancel) resumes it. Without O(job_name), cancelled
    jobs are left alone (listed in RV(skipped)).
  - Replaces the prototype's C(queue_management/reschedule_all_unfinished_jobs.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only reschedule the tasks of this job; resumes it when it was cancelled.
    type: str
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Returns the tasks that would get a new attempt and changes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: full
    description: >-
      A second run right after the first reports no change (the new attempts are queued).
seealso:
  - module: plato.eas.schedule
  - module: plato.eas.errors_info
  - module: plato.eas.cancel
"""

EXAMPLES = r"""
- name: Retry every failed or interrupted task of one job
  plato.eas.reschedule:
    job_name: transit_search_2026_11
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "queued a new attempt for 2 unfinished tasks"
attempt_ids:
  description: Ids of the new attempts (empty in check mode).
  returned: always
  type: list
  elements: int
  sample: [41, 42]
task_ids:
  description: Ids of the tasks rescheduled (or that would be).
  returned: always
  type: list
  elements: int
  sample: [7, 9]
resumed:
  description: The cancelled job resumed (or that would be).
  returned: always
  type: list
  elements: str
  sample: [transit_search_2026_11]
skipped:
  description: Cancelled jobs left alone (only without O(job_name)).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(job_name=dict(type="str"))


def main():
    EasModule(ARGUMENT_SPEC).execute("reschedule", options=("job_name",))


if __name__ == "__main__":
    main()
