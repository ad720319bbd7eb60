# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module attributes shared by several plato.eas modules (as community.general.attributes)."""


class ModuleDocFragment:

    DOCUMENTATION = r"""
options: {}
"""

    # The read-only modules: reports and plans.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Read-only; there is nothing to show a diff of.
  idempotent:
    support: full
    description: Never changes anything.
"""
