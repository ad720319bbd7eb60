#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: logs_info
short_description: Log messages of EAS tasks at any severity, filtered and paged
version_added: 0.1.0
description:
  - Lists the log messages recorded by task attempts - info, warnings and errors - newest
    first, one page at a time, with each message's time, job, task type, task, attempt and
    severity.
  - Filters by job, task type, task, lowest severity and time. M(plato.eas.errors_info) keeps
    listing only errors (severity 40 and above), oldest first, all at once.
  - With O(dest), also writes the page as CSV.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  job_name:
    description:
      - Only the messages of this job's tasks.
    type: str
  task_type:
    description:
      - Only the messages of tasks of this type.
    type: str
  task_id:
    description:
      - Only the messages of this task's attempts.
    type: int
  min_severity:
    description:
      - Lowest severity shown - a number (V(10) debug, V(20) info, V(30) warning, V(40)
        error, V(50) critical) or one of those names. Default every message.
    type: str
  since:
    description:
      - Only messages logged at or after this time - Unix time or UTC as
        C(YYYY-MM-DD[ HH:MM[:SS]]).
    type: str
  until:
    description:
      - Only messages logged before this time (same forms as O(since)).
    type: str
  page:
    description:
      - Which page to return, from V(1) (the newest messages). Default V(1).
    type: int
  page_size:
    description:
      - Messages per page, V(1) to V(1000). Default V(100).
    type: int
  dest:
    description:
      - Write the page's CSV form to this file. The file is only rewritten (and the task
        reported changed) when its content would change.
    type: path
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.report.csv_file
seealso:
  - module: plato.eas.errors_info
  - module: plato.eas.task_info
"""

EXAMPLES = r"""
- name: Warnings and errors of one job since noon (UTC)
  plato.eas.logs_info:
    job_name: demo
    min_severity: warning
    since: "2026-12-01 12:00"
  register: logs

- name: Print them
  ansible.builtin.debug:
    msg: "{{ logs.table.splitlines() }}"

- name: Every message of task 42, 500 at a time, second page
  plato.eas.logs_info:
    task_id: 42
    page: 2
    page_size: 500

# Ad hoc:
#   ansible localhost -m plato.eas.logs_info -a 'job_name=demo min_severity=info page_size=20'
"""

RETURN = r"""
rows:
  description: The messages of the page, newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - {"time": "2026-12-01 17:43:44", "timestamp": 1796147024.2, "job_name": "demo",
       "task_type": "null", "task_id": 30, "attempt_id": 30, "severity": 20, "level": "INFO",
       "message": "plato_eas.task: null task wrote 1 output(s)"}
total:
  description: How many messages match the filters, on every page.
  returned: always
  type: int
  sample: 31
page:
  description: The page returned.
  returned: always
  type: int
  sample: 1
pages:
  description: How many pages the matching messages fill.
  returned: always
  type: int
  sample: 1
page_size:
  description: Messages per page.
  returned: always
  type: int
  sample: 100
table:
  description: The page as a text table.
  returned: always
  type: str
  sample: |-
    Time                 Job   Task type  Task  Attempt  Severity  Message
    2026-12-01 17:43:44  demo  null         30       30  INFO      null task wrote 1 output(s)
dest:
  description: The CSV file.
  returned: when O(dest) is given
  type: str
  sample: /srv/eas/reports/logs.csv
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    job_name=dict(type="str"),
    task_type=dict(type="str"),
    task_id=dict(type="int"),
    min_severity=dict(type="str"),
    since=dict(type="str"),
    until=dict(type="str"),
    page=dict(type="int"),
    page_size=dict(type="int"),
    dest=dict(type="path"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "logs", options=tuple(ARGUMENT_SPEC))


if __name__ == "__main__":
    main()
