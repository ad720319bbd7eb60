# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters and CSV destination of the reports that can be written as CSV files
(plato.eas.report), and what a report module with a CSV file does (plato.eas.report.csv_file)."""


class ModuleDocFragment:

    DOCUMENTATION = r"""
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
      - The file is written as its rows are read from the database, in memory that does not
        grow with the number of attempts; the result then says how many rows it holds
        (RV(csv_rows)) instead of returning them.
    type: path
"""

    # What a read-only report with an optional CSV file (O(dest)) does in check mode, with
    # --diff and when run again: shared by every such module.
    CSV_FILE = r"""
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
"""
