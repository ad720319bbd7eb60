# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a plato.eas module runs (in the manner of kubernetes.core's AnsibleK8SModule).

``EasModule`` is an ``AnsibleModule`` with the common connection options added to the
module's own, check mode supported and plato_eas required; :meth:`EasModule.execute` calls one
``plato_eas.actions`` function with the module's settings and parameters and exits with its
result. Every ``EasError`` becomes one ``fail_json`` here (:meth:`fail_from_exception`), so a
module reads: docs, argument spec, one call.
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.plato.eas.plugins.module_utils import common

# The options of the reports that can be written as CSV (the plato.eas.report doc fragment).
CSV_REPORT_SPEC = dict(
    job_name=dict(type="str"),
    task_type=dict(type="str"),
    dest=dict(type="path"),
)


class EasModule:
    """An AnsibleModule for plato.eas; attributes not defined here are the AnsibleModule's."""

    def __init__(self, argument_spec=None, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        self._module = AnsibleModule(
            argument_spec=common.eas_argument_spec(**(argument_spec or {})), **kwargs)
        if not common.HAS_PLATO_EAS:
            self._module.fail_json(msg=missing_required_lib("plato_eas"),
                                   exception=common.PLATO_EAS_IMPORT_ERROR)

    def __getattr__(self, name):
        return getattr(self._module, name)

    def fail_from_exception(self, exc):
        """An EasError as the module's failure: its one line, and the problems of a chain."""
        extra = {}
        if getattr(exc, "problems", None) is not None:
            extra["problems"] = [dict(path=path, message=message)
                                 for path, message in exc.problems]
        self._module.fail_json(msg=str(exc), **extra)

    def execute(self, action, *args, options=(), check_mode=True, diff=None):
        """Exit with ``plato_eas.actions.<action>(settings, *args, **options)``.

        ``options``: module parameters passed on by name when set (one left unset takes the
        action's default: every default is set once, in ``plato_eas.defaults``);
        ``check_mode``: pass the module's check mode on; ``diff``: ``result -> {"prepared":
        text}`` for ``--diff``. A result's ``failure`` fails the module with the result; its
        ``failed`` (a count of failed tasks, which Ansible would read as the task's status)
        is returned as ``failed_tasks``."""
        params = self._module.params
        kwargs = {name: params[name] for name in options if params[name] is not None}
        if check_mode:
            kwargs["check_mode"] = self._module.check_mode
        try:
            result = getattr(common.actions, action)(common.eas_settings(params), *args,
                                                     **kwargs)
        except common.EasError as exc:
            self.fail_from_exception(exc)
        if diff is not None and self._module._diff and result["changed"]:
            result["diff"] = diff(result)
        if "failed" in result:
            result["failed_tasks"] = result.pop("failed")
        failure = result.pop("failure", None)
        if failure:
            result.pop("msg", None)  # the failure is the message
            self._module.fail_json(msg=failure, **result)
        self._module.exit_json(**result)
