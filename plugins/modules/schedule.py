#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: schedule
short_description: Queue every EAS task that is ready to run (one scheduler pass)
version_added: 0.1.0
description:
  - Runs one pass of the scheduler, the same pass the C(eas scheduler) daemon repeats - every
    task that is ready (fully configured, no attempt yet, all inputs available) gets a new
    attempt on the queue named after its task type.
  - The same pass marks stalled attempts (no heartbeat for O(max_heartbeat_age) seconds)
    failed and, up to the retry limit, queues them again.
  - Replaces the prototype's C(queue_management/schedule_all_waiting_tasks.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: >-
      Returns the tasks that would be queued and the stalled attempts, and changes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: full
    description: A second pass with nothing newly ready reports no change.
seealso:
  - module: plato.eas.reschedule
  - module: plato.eas.local_run
"""

EXAMPLES = r"""
- name: Queue every ready task
  plato.eas.schedule:
  register: pass_result

- name: What would be queued?
  plato.eas.schedule:
  check_mode: true
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "queued 2 attempts"
task_ids:
  description: Ids of the tasks given an attempt (or, in check mode, that would be).
  returned: always
  type: list
  elements: int
  sample: [7, 8]
attempt_ids:
  description: Ids of the attempts created and queued (empty in check mode).
  returned: always
  type: list
  elements: int
  sample: [12, 13]
stalled:
  description: >-
    Running attempts whose heartbeat is older than O(max_heartbeat_age); they are marked
    failed (in check mode, would be).
  returned: always
  type: list
  elements: int
  sample: []
requeued:
  description: Stalled attempts whose task was given a new attempt (within the retry limit).
  returned: always
  type: list
  elements: int
  sample: []
given_up:
  description: Stalled attempts whose task reached the retry limit and stays failed.
  returned: always
  type: list
  elements: int
  sample: []
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict()


def main():
    EasModule(ARGUMENT_SPEC).execute("schedule")


if __name__ == "__main__":
    main()
