#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: empty_queue
short_description: Remove every waiting attempt from the EAS job queues
version_added: 0.1.0
description:
  - Removes the attempts waiting in the job queues (all queues, or the named ones) and marks
    them no longer queued in the task database. Running attempts are not touched.
  - The tasks concerned become waiting again; M(plato.eas.reschedule) queues them anew.
  - Replaces the prototype's C(queue_management/empty_queue.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  queues:
    description:
      - Task types (queue names) to empty. Default every queue.
      - An unknown name fails without emptying anything.
    type: list
    elements: str
  job_name:
    description:
      - Only remove the attempts of this job; the other jobs' attempts stay queued (also in
        RabbitMQ). An unknown job fails without emptying anything.
      - To stop a job altogether, use M(plato.eas.cancel).
    type: str
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Returns the attempts that would be removed and changes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: full
    description: A second run finds the queues empty and reports no change.
seealso:
  - module: plato.eas.queue_info
  - module: plato.eas.reschedule
  - module: plato.eas.cancel
"""

EXAMPLES = r"""
- name: Empty every queue
  plato.eas.empty_queue:

- name: Empty only the transit-search queues
  plato.eas.empty_queue:
    queues: [transit_search_bls, transit_search_tls]

- name: Take one job's attempts off every queue
  plato.eas.empty_queue:
    job_name: grid_2026_12
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: >-
    removed 1 waiting attempt (null 1); their tasks wait, and are not scheduled again until
    `eas reschedule` (plato.eas.reschedule) queues them
attempt_ids:
  description: Ids of the attempts removed (or that would be).
  returned: always
  type: list
  elements: int
  sample: [15, 16]
per_queue:
  description: The attempt ids removed, per queue.
  returned: always
  type: dict
  sample: {"null": [15, 16]}
job_name:
  description: The job whose attempts were removed (null for every job).
  returned: always
  type: str
  sample: grid_2026_12
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(queues=dict(type="list", elements="str"), job_name=dict(type="str"))


def main():
    EasModule(ARGUMENT_SPEC).execute("empty_queue", options=("queues", "job_name"))


if __name__ == "__main__":
    main()
