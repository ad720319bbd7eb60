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
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.report
  - plato.eas.report.csv_file
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
  returned: when O(dest) is not given
  type: list
  elements: dict
  sample:
    - {"job_name": "injection_recovery", "task_type": "transit_search_bls", "task_id": 12,
       "attempt_id": 12, "outcome": 1, "recorded": "PASS",
       "metadata": {"size": 0.05, "size_index": 0}}
table:
  description: The tables as text, one per (job, task type).
  returned: when O(dest) is not given
  type: str
  sample: |-
    injection_recovery / transit_search_bls
    size  size_index  outcome
    0.05  0           1
csv_rows:
  description: The number of data rows written to the CSV file (its blocks' headings aside).
  returned: when O(dest) is given
  type: int
  sample: 1000000
dest:
  description: The CSV file.
  returned: when O(dest) is given
  type: str
  sample: /srv/eas/reports/pass_fail.csv
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import (
    CSV_REPORT_SPEC,
    EasModule,
)

ARGUMENT_SPEC = CSV_REPORT_SPEC


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "pass_fail", options=tuple(ARGUMENT_SPEC))


if __name__ == "__main__":
    main()
