#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: schema
short_description: Create or drop the EAS task database schema
version_added: 0.1.0
description:
  - Creates every table of the EAS task database (compatible with the prototype's schema) on
    SQLite or MySQL/MariaDB, applies pending schema migrations, and loads the task-type
    registry (worker containers and the task types each one runs) into it.
  - With O(state=absent) drops every EAS table, and with it all tasks, attempts and logs.
  - A database whose schema was written by a newer release of C(plato_eas) is refused.
  - Replaces the prototype's C(database_initialisation/init_schema.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  state:
    description:
      - V(present) creates missing tables and loads the registry; V(absent) drops the tables.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Reports the tables that would be created or dropped and changes nothing.
  diff_mode:
    support: full
    description: Lists the tables created or dropped and the registry entries loaded.
  idempotent:
    support: full
    description: A second run with the same registry reports no change.
seealso:
  - module: plato.eas.queues
  - module: plato.eas.db_save
"""

EXAMPLES = r"""
- name: Create the embedded (SQLite) task database
  plato.eas.schema:
    db_path: /srv/eas/eas.sqlite

- name: Create the production database on MariaDB (password from EAS_DB_PASSWORD)
  plato.eas.schema:
    db_engine: mysql
    db_host: db.example.org
    db_user: eas
    db_name: plato_eas

- name: Show what would be dropped, without dropping it
  plato.eas.schema:
    state: absent
  check_mode: true
  register: would_drop

- name: Drop the task database
  plato.eas.schema:
    state: absent
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: >-
    created 17 tables; loaded 11 task types, 2 containers from the registry (schema version 1)
state:
  description: The state the database is (or would be) in.
  returned: always
  type: str
  sample: present
version:
  description: Schema version of the database after the run.
  returned: when O(state=present)
  type: int
  sample: 1
created_tables:
  description: Tables created (or, in check mode, that would be created).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [eas_task, eas_scheduling_attempt]
dropped_tables:
  description: Tables dropped (or, in check mode, that would be dropped).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [eas_task, eas_scheduling_attempt]
task_types:
  description: Task types added to the database from the registry.
  returned: when O(state=present)
  type: list
  elements: str
  sample: ["execution_chain", "null"]
containers:
  description: Worker containers added or updated from the registry.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [eas-base]
"""

from ansible_collections.plato.eas.plugins.module_utils.diffs import schema_diff
from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("init_schema", options=("state",), diff=schema_diff)


if __name__ == "__main__":
    main()
