#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: cancel
short_description: Cancel an EAS job
version_added: 0.1.0
description:
  - Stops a job and keeps its history. Its queued attempts are taken off the job queue (the
    SQL queue and RabbitMQ alike), its running attempts are stopped and its retries still to
    come are dropped; all of them are recorded as cancelled - not failed, not stalled - with
    the reason in their log.
  - A worker running an attempt of the job notices within a few seconds, kills the task's
    process group and records nothing of it.
  - Nothing of the job is scheduled, retried or queued again until M(plato.eas.reschedule)
    names it. Other jobs are untouched.
  - An unknown job fails, listing the jobs there are.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - The job to cancel.
    type: str
    required: true
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Returns the attempts that would be cancelled and changes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: full
    description: A second run finds the job cancelled with nothing left to stop and reports
      no change.
seealso:
  - module: plato.eas.jobs_info
  - module: plato.eas.reschedule
  - module: plato.eas.empty_queue
"""

EXAMPLES = r"""
- name: Cancel a job submitted by mistake
  plato.eas.cancel:
    job_name: grid_with_wrong_noise

- name: Later, resume it
  plato.eas.reschedule:
    job_name: grid_with_wrong_noise
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: >-
    cancelled job grid: 19 queued attempts taken off the queue, 1 running attempt stopped,
    0 retries dropped; `eas reschedule --job` (plato.eas.reschedule) resumes it
job_name:
  description: The job.
  returned: always
  type: str
  sample: grid_with_wrong_noise
cancelled:
  description: Whether the job was marked cancelled now (false when it already was).
  returned: always
  type: bool
  sample: true
queued_attempt_ids:
  description: Ids of the queued attempts taken off the queue (or that would be).
  returned: always
  type: list
  elements: int
  sample: [108, 109]
running_attempt_ids:
  description: Ids of the running attempts stopped (or that would be).
  returned: always
  type: list
  elements: int
  sample: [107]
retry_attempt_ids:
  description: Ids of the retries that were waiting out their backoff and are dropped.
  returned: always
  type: list
  elements: int
  sample: []
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(job_name=dict(type="str", required=True))


def main():
    EasModule(ARGUMENT_SPEC).execute("cancel", options=("job_name",))


if __name__ == "__main__":
    main()
