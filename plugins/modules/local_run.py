#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: local_run
short_description: Run the EAS scheduler and local workers until a job is finished
version_added: 0.1.0
description:
  - The embedded mode of the pipeline - runs the scheduler and O(workers) worker processes on
    the host the module runs on, until the job O(job_name) (or, without it, all work) is
    finished or blocked, or O(timeout) seconds pass.
  - Returns the final progress summary (the rows and table of M(plato.eas.progress_info)).
  - Fails when any task failed, when the timeout passed with work left, when queued work has
    task types that no package installed here implements, or when no worker process could
    start; the message says which (with what the workers were running at the timeout), and
    the progress rows and table are returned with the failure.
  - Meant for the embedded default (SQLite + sql queue); on a Kubernetes deployment the
    scheduler and worker Deployments do this work.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  workers:
    description:
      - Number of local worker processes. Default V(2).
    type: int
  job_name:
    description:
      - Stop when this job is finished or blocked. Default when every task is.
    type: str
  timeout:
    description:
      - Give up after this many seconds (the work left stays queued for a later run).
        Default V(3600).
    type: float
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: partial
    description: Runs nothing and reports the current progress instead of the final one.
    details: >-
      In check mode no scheduler or worker is started; the result holds the current progress
      rows and table, and reports a change when there is unfinished work that a real run
      would process.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: none
    description: Every run starts the scheduler and workers and reports a change.
seealso:
  - module: plato.eas.submit
  - module: plato.eas.progress_info
"""

EXAMPLES = r"""
- name: Submit the demo chain
  plato.eas.submit:
    src: examples/chains/demo.json
  register: job

- name: Run it to the end with four local workers
  plato.eas.local_run:
    job_name: "{{ job.job_name }}"
    workers: 4
    timeout: 600
  register: run

- name: Show the final progress
  ansible.builtin.debug:
    msg: "{{ run.table.splitlines() }}"
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "finished: job demo, 31 tasks done"
finished:
  description: Whether the job (or all work) finished.
  returned: always
  type: bool
  sample: true
timed_out:
  description: Whether O(timeout) passed with work left.
  returned: always
  type: bool
  sample: false
job_name:
  description: The job run (null for all work).
  returned: always
  type: str
  sample: demo
summary:
  description: Task counts of the job (or of all work) at the end, by state.
  returned: always
  type: dict
  sample: {"total": 31, "done": 31, "failed": 0}
failed_tasks:
  description: Number of tasks that failed.
  returned: always
  type: int
  sample: 0
blocked:
  description: Tasks that can never run because an input comes from a task that failed.
  returned: always
  type: list
  elements: dict
  sample:
    - {"task_id": 6, "task_name": "after", "task_type": "null", "job_name": "broken",
       "blocked_by": [5]}
stopped:
  description: Why the run ended without finishing (null when it finished).
  returned: always
  type: str
  sample: "timed out after 60 s with work left; the workers were running attempt 3
    (synthesis_psls, job proto) for 58 s"
unrunnable:
  description: Task types of queued work that no installed package implements, with the
    containers the registry names for them.
  returned: always
  type: list
  elements: str
  sample: ["transit_search_dst_v26: no implementation installed (container eas-tda)"]
worker_errors:
  description: Each worker process that stopped during the run, and why, one line each.
  returned: always
  type: list
  elements: str
  sample: ["worker 4242 could not start: no such table: eas_worker_host"]
rows:
  description: The final progress summary, one entry per task type (see M(plato.eas.progress_info)).
  returned: always
  type: list
  elements: dict
  sample:
    - {"task_type": "null", "total": 4, "done": 4, "done_pct": 100.0, "failed": 0}
table:
  description: The final progress summary as a text table.
  returned: always
  type: str
  sample: |-
    Task   Waiting  Queued  Stalled  Running  Done       Failed  Total
    null   0 (0%)   0 (0%)  0 (0%)   0 (0%)   4 (100%)   0 (0%)  4
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    workers=dict(type="int"),
    job_name=dict(type="str"),
    timeout=dict(type="float"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("local_run", options=("workers", "job_name", "timeout"))


if __name__ == "__main__":
    main()
