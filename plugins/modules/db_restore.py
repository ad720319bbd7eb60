#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: db_restore
short_description: Restore the EAS task database from a db_save dump
version_added: 0.1.0
description:
  - Loads a dump written by M(plato.eas.db_save) into the task database.
  - Refuses to overwrite a database that already holds tasks unless O(force=true).
  - A missing, unreadable or corrupt dump file fails before anything is changed.
  - Replaces the prototype's C(database_initialisation/db_restore.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  src:
    description:
      - The dump file (C(.sql.gz)) to restore.
    type: path
    required: true
  force:
    description:
      - Replace the contents of a database that is not empty.
    type: bool
    default: false
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Reads and checks the dump and the target database, and changes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: partial
    description: >-
      A second run without O(force) fails because the database is no longer empty; with
      O(force) every run replaces the contents and reports a change.
seealso:
  - module: plato.eas.db_save
"""

EXAMPLES = r"""
- name: Restore a dump into an empty database
  plato.eas.db_restore:
    src: /srv/backups/eas-20261124T120000Z.sql.gz

- name: Replace the current contents
  plato.eas.db_restore:
    src: /srv/backups/eas-20261124T120000Z.sql.gz
    force: true
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "restored /srv/backups/eas.sql.gz: 17 tables, 1204 rows (31 tasks)"
src:
  description: The dump file restored.
  returned: always
  type: str
  sample: /srv/backups/eas-20261124T120000Z.sql.gz
tables:
  description: Rows per table after the restore (empty in check mode).
  returned: always
  type: dict
  sample: {"eas_task": 120, "eas_scheduling_attempt": 118}
engine:
  description: Database engine the dump was made from.
  returned: always
  type: str
  sample: sqlite
schema_version:
  description: Schema version recorded in the dump.
  returned: always
  type: int
  sample: 1
overwritten:
  description: Tables that held data and were (or would be) replaced, with O(force=true).
  returned: always
  type: list
  elements: str
  sample: [eas_task]
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    force=dict(type="bool", default=False),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("db_restore", options=("src", "force"))


if __name__ == "__main__":
    main()
