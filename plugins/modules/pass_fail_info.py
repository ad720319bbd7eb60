#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: pass_fail_info
short_description: Pass/fail outcome of EAS task attempts, as tables or CSV
version_added: 0.1.0
description:
  - One table per (job, task type), control-flow (C(execution_*)) types excluded, whose
    columns are the task's short input metadata values (loop variables and the like)
    followed by C(outcome) - 1 when the attempt's output metadata C(outcome) is C(PASS),
    else 0. Only attempts that recorded an outcome are listed.
  - With O(dest), also writes those tables as CSV.
  - Replaces the prototype's C(diagnostics/pass_fail_to_csv.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only the attempts of this job.
    type: str
  task_type:
    description:
      - Only the attempts of tasks of this type.
    type: str
  dest:
    description:
      - Write the CSV form to this file. The file is only rewritten (and the task reported
        changed) when its content would change.
    type: path
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Reports whether O(dest) would change and writes nothing.
  diff_mode:
    support: none
    description: Read-only; there is nothing to show a diff of.
  idempotent:
    support: full
    description: Without O(dest) never changes anything; with it, a second run reports no change.
seealso:
  - module: plato.eas.timings_info
"""

EXAMPLES = r"""
- name: Detection outcomes of one job
  plato.eas.pass_fail_info:
    job_name: injection_recovery
  register: outcomes

- name: Same, as CSV for plotting
  plato.eas.pass_fail_info:
    job_name: injection_recovery
    dest: /srv/eas/reports/pass_fail.csv

# Ad hoc:
#   ansible localhost -m plato.eas.pass_fail_info -a 'job_name=injection_recovery'
"""

RETURN = r"""
rows:
  description: One entry per attempt that recorded an outcome, in attempt order.
  returned: always
  type: list
  elements: dict
  sample:
    - {"job_name": "injection_recovery", "task_type": "transit_search_bls", "task_id": 12,
       "attempt_id": 12, "outcome": 1, "recorded": "PASS",
       "metadata": {"size": 0.05, "size_index": 0}}
table:
  description: The tables as text, one per (job, task type).
  returned: always
  type: str
  sample: |-
    injection_recovery / transit_search_bls
    size  size_index  outcome
    0.05  0           1
dest:
  description: The CSV file.
  returned: when O(dest) is given
  type: str
  sample: /srv/eas/reports/pass_fail.csv
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.plato.eas.plugins.module_utils.common import (
    HAS_PLATO_EAS,
    PLATO_EAS_IMPORT_ERROR,
    EasError,
    actions,
    eas_argument_spec,
    eas_settings,
)


def main():
    module = AnsibleModule(
        argument_spec=eas_argument_spec(
            job_name=dict(type="str"),
            task_type=dict(type="str"),
            dest=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if not HAS_PLATO_EAS:
        module.fail_json(msg=missing_required_lib("plato_eas"), exception=PLATO_EAS_IMPORT_ERROR)
    filters = dict(job_name=module.params["job_name"], task_type=module.params["task_type"])
    try:
        result = actions.report(eas_settings(module.params), "pass_fail",
                                dest=module.params["dest"], check_mode=module.check_mode,
                                **filters)
    except EasError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
