#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: timings_info
short_description: Wall-clock and CPU times of EAS task attempts, as a table or CSV
version_added: 0.1.0
description:
  - For every attempt that ran - start time, job, task type, wall-clock, CPU and CPU
    including child processes, in seconds.
  - With O(dest), also writes the CSV form - one table per (job, task type) whose columns
    are the task's short input metadata values (loop variables and the like) followed by the
    text table's columns - start time, task id, attempt id and the three run times.
  - Replaces the prototype's C(diagnostics/timings_list.py) and
    C(diagnostics/timings_to_csv.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.report
  - plato.eas.report.csv_file
seealso:
  - module: plato.eas.pass_fail_info
"""

EXAMPLES = r"""
- name: Run times of one job
  plato.eas.timings_info:
    job_name: demo
  register: timings

- name: Run times of the transit searches, as CSV
  plato.eas.timings_info:
    task_type: transit_search_bls
    dest: /srv/eas/reports/timings_bls.csv

# Ad hoc:
#   ansible localhost -m plato.eas.timings_info -a 'job_name=demo dest=/tmp/timings.csv'
"""

RETURN = r"""
rows:
  description: One entry per attempt, in attempt order.
  returned: when O(dest) is not given
  type: list
  elements: dict
  sample:
    - {"attempt_id": 2, "start_time": "2026-11-24 12:00:01", "start_timestamp": 1795003201.2,
       "job_name": "demo", "task_type": "null", "task_id": 2, "wall_clock": 0.52,
       "cpu": 0.03, "cpu_inc_children": 0.03}
table:
  description: The text table (seconds to 0.01 s).
  returned: when O(dest) is not given
  type: str
  sample: |-
    Start                Job   Task type  Task  Attempt  Wall-clock (s)  CPU (s)  CPU incl. ...
    2026-11-24 12:00:01  demo  null       2     2        0.52            0.03     0.03 ...
csv_rows:
  description: The number of data rows written to the CSV file (its blocks' headings aside).
  returned: when O(dest) is given
  type: int
  sample: 1000000
dest:
  description: The CSV file.
  returned: when O(dest) is given
  type: str
  sample: /srv/eas/reports/timings_bls.csv
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import (
    CSV_REPORT_SPEC,
    EasModule,
)

ARGUMENT_SPEC = CSV_REPORT_SPEC


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "timings", options=tuple(ARGUMENT_SPEC))


if __name__ == "__main__":
    main()
