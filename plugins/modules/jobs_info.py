#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: jobs_info
short_description: Every EAS job with its state, task counts and times
version_added: 0.1.0
description:
  - Lists every job (or one) newest first - when it was submitted, its tasks counted by
    state (each task in the state of its latest attempt), when its first attempt started
    and its last one ended, and the job's state.
  - A job is V(cancelled) from M(plato.eas.cancel) until M(plato.eas.reschedule) names it;
    otherwise V(running) while a task is queued, running or stalled or a waiting task may
    still become ready, V(blocked) when nothing is in flight and every waiting task waits on
    a task that failed for good, else V(finished).
  - With O(dest), also writes the CSV form.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only this job; also returns its counts per task type (C(by_type)). An unknown job
        fails.
    type: str
  dest:
    description:
      - Write the CSV form to this file. The file is only rewritten (and the task reported
        changed) when its content would change.
    type: path
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.report.csv_file
seealso:
  - module: plato.eas.progress_info
  - module: plato.eas.cancel
  - module: plato.eas.reschedule
"""

EXAMPLES = r"""
- name: Every job
  plato.eas.jobs_info:
  register: jobs

- name: Fail unless the nightly job finished
  plato.eas.jobs_info:
    job_name: nightly_grid
  register: nightly
  failed_when: nightly.rows[0].state != 'finished'

# Ad hoc:
#   ansible localhost -m plato.eas.jobs_info
"""

RETURN = r"""
rows:
  description: One entry per job, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    job_name:
      description: The job's name.
      type: str
    state:
      description: V(running), V(blocked), V(finished) or V(cancelled).
      type: str
    total:
      description: The job's tasks.
      type: int
    waiting:
      description: Tasks waiting to become ready (blocked ones included).
      type: int
    queued:
      description: Tasks whose latest attempt is queued.
      type: int
    stalled:
      description: Tasks whose latest attempt stopped sending heartbeats.
      type: int
    running:
      description: Tasks whose latest attempt is running.
      type: int
    done:
      description: Tasks whose latest attempt succeeded.
      type: int
    failed:
      description: Tasks whose latest attempt failed.
      type: int
    cancelled:
      description: Tasks whose latest attempt was cancelled.
      type: int
    blocked:
      description: Waiting tasks that wait on a task that failed for good (counted only
        while nothing of the job is in flight).
      type: int
    submitted:
      description: When the job's first task was registered (UTC).
      type: str
    first_start:
      description: When its first attempt started (UTC), or null.
      type: str
    last_end:
      description: When its last attempt ended (UTC), or null.
      type: str
    by_type:
      description: With O(job_name), the same counts per task type; otherwise null.
      type: list
      elements: dict
  sample:
    - {"job_name": "demo", "state": "finished", "total": 31, "waiting": 0, "queued": 0,
       "stalled": 0, "running": 0, "done": 31, "failed": 0, "cancelled": 0, "blocked": 0,
       "submitted": "2026-12-01 16:41:46", "first_start": "2026-12-01 16:41:47",
       "last_end": "2026-12-01 16:41:49", "by_type": null}
table:
  description: The text table.
  returned: always
  type: str
  sample: |-
    Job   State     Submitted            First start          Last end             Total ...
    demo  finished  2026-12-01 16:41:46  2026-12-01 16:41:47  2026-12-01 16:41:49     31 ...
dest:
  description: The CSV file.
  returned: when O(dest) is given
  type: str
  sample: /srv/eas/reports/jobs.csv
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(job_name=dict(type="str"), dest=dict(type="path"))


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "jobs", options=tuple(ARGUMENT_SPEC))


if __name__ == "__main__":
    main()
