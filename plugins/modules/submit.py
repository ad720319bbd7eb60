#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: submit
short_description: Submit an EAS task chain
version_added: 0.1.0
description:
  - Validates a task chain and registers it as one C(execution_chain) task; workers expand
    it into its child tasks when it runs (see C(docs/chains.md) for the chain format).
  - The whole chain is validated before anything is written. An invalid chain fails with
    every problem listed with its JSON path, and writes nothing.
  - A chain is a job. A chain whose job name is taken by an earlier one is refused, unless
    O(allow_existing_job) adds it to that job.
  - Replaces the prototype's C(job_submission/submit.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  src:
    description:
      - JSON file holding the chain, on the host the module runs on.
      - Exactly one of O(src) and O(chain) is required.
    type: path
  chain:
    description:
      - The chain itself, a dict with C(task_list) and optionally C(job_name) and
        C(working_directory).
      - Exactly one of O(src) and O(chain) is required.
    type: dict
  validate_only:
    description:
      - Only validate the chain; write nothing and report no change.
    type: bool
    default: false
  allow_existing_job:
    description:
      - Add the chain to the job of the same name when there is one (reports then count both
        chains as one job), instead of refusing it.
    type: bool
    default: false
  priority:
    description:
      - The job's priority, from -5 to 5; overrides the chain's C(priority). Workers take
        the queued attempts of higher priority first, and those of equal priority first in,
        first out. Every task of the job inherits it unless it sets its own.
      - Default the chain's C(priority), else 0.
    type: int
  allow_unimplemented:
    description:
      - Accept task types that no package installed on the control node implements.
      - "By default such a chain is refused with the reason, for example
        C(transit_search_dst_v26: no implementation installed (container eas-tda)), so a job
        never waits for a worker that cannot exist. Set this when the cluster's workers have
        science packages the control node lacks."
    type: bool
    default: false
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Validates the chain, writes nothing, and reports the change a real run makes.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: none
    description: Every run submits a new job (a chain may be run any number of times).
seealso:
  - module: plato.eas.local_run
  - module: plato.eas.progress_info
"""

EXAMPLES = r"""
- name: Submit a chain file
  plato.eas.submit:
    src: /srv/eas/chains/transit_search.json
  register: job

- name: Submit an inline chain
  plato.eas.submit:
    chain:
      job_name: smoke
      task_list:
        - task: "null"
          name: hello
          outputs: {lightcurve: hello.lc}

- name: Only check a chain
  plato.eas.submit:
    src: /srv/eas/chains/transit_search.json
    validate_only: true

- name: An urgent job, ahead of whatever is queued
  plato.eas.submit:
    src: /srv/eas/chains/follow_up.json
    priority: 5
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "submitted job demo as task 1 (3 top-level tasks)"
task_id:
  description: Id of the root C(execution_chain) task (null when nothing was written).
  returned: always
  type: int
  sample: 1
job_name:
  description: The job's name.
  returned: always
  type: str
  sample: demo
task_count:
  description: Number of tasks in the chain's top-level C(task_list).
  returned: always
  type: int
  sample: 4
priority:
  description: The job's priority.
  returned: always
  type: int
  sample: 0
job_exists:
  description: Whether a job of that name existed before (then the chain was added to it,
    with O(allow_existing_job)).
  returned: always
  type: bool
  sample: false
problems:
  description: When the chain is invalid, every problem found, with its JSON path.
  returned: failure
  type: list
  elements: dict
  sample: [{"path": "$.task_list[1].task", "message": "unknown task type 'nul'"}]
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    src=dict(type="path"),
    chain=dict(type="dict"),
    validate_only=dict(type="bool", default=False),
    allow_existing_job=dict(type="bool", default=False),
    priority=dict(type="int"),
    allow_unimplemented=dict(type="bool", default=False),
)


def main():
    EasModule(
        ARGUMENT_SPEC, mutually_exclusive=[("src", "chain")], required_one_of=[("src", "chain")],
    ).execute("submit", options=("chain", "src", "validate_only", "allow_existing_job",
                                 "priority", "allow_unimplemented"))


if __name__ == "__main__":
    main()
