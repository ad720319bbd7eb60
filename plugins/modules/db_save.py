#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: db_save
short_description: Save the EAS task database to a gzip SQL dump
version_added: 0.1.0
description:
  - Writes a consistent snapshot of every EAS table as a gzip-compressed SQL dump that
    M(plato.eas.db_restore) reads back (on either engine).
  - Returns the dump's path, size and SHA-256, so a playbook can record or verify it.
  - Replaces the prototype's C(database_initialisation/db_save.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  dest:
    description:
      - File to write.
      - Default C(<data_dir>/backups/eas-<database name>-<UTC time>.sql.gz).
    type: path
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: Returns the path that would be written and writes nothing.
  diff_mode:
    support: none
    description: The result lists what was changed; no diff is produced.
  idempotent:
    support: none
    description: Every run writes a new snapshot and reports a change.
seealso:
  - module: plato.eas.db_restore
"""

EXAMPLES = r"""
- name: Save the task database
  plato.eas.db_save:
    dest: /srv/backups/eas-{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}.sql.gz
  register: dump

- name: Show the checksum
  ansible.builtin.debug:
    msg: "{{ dump.path }} {{ dump.size }} bytes sha256={{ dump.sha256 }}"
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "saved the task database to /srv/backups/eas.sql.gz (10240 bytes, sha256 9f86d0...)"
path:
  description: The dump file written (or that would be written).
  returned: always
  type: str
  sample: /srv/backups/eas-20261124T120000Z.sql.gz
size:
  description: Size of the dump in bytes (null in check mode).
  returned: always
  type: int
  sample: 48213
sha256:
  description: SHA-256 of the dump file (null in check mode).
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(dest=dict(type="path"))


def main():
    EasModule(ARGUMENT_SPEC).execute("db_save", options=("dest",))


if __name__ == "__main__":
    main()
