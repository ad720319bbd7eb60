# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared Ansible glue for the plato.eas modules.

One common argument spec for the connection options (documented once, in the
``plato.eas.connection`` doc fragment) and its mapping onto ``plato_eas`` settings. No
pipeline logic lives here, and nothing here calls ``fail_json``: modules convert
``EasError`` to ``fail_json`` themselves, once, in ``main()``.
"""

import os
import traceback

from ansible.module_utils.errors import AnsibleFallbackNotFound

__all__ = [
    "CONNECTION_OPTIONS",
    "HAS_PLATO_EAS",
    "PLATO_EAS_IMPORT_ERROR",
    "EasError",
    "actions",
    "connection_argument_spec",
    "connection_params",
    "eas_argument_spec",
    "eas_env_fallback",
    "eas_settings",
]

PLATO_EAS_IMPORT_ERROR = None
try:
    from plato_eas import actions
    from plato_eas.errors import EasError
    from plato_eas.settings import load_settings
except ImportError:
    PLATO_EAS_IMPORT_ERROR = traceback.format_exc()
    actions = None
    load_settings = None

    class EasError(Exception):
        """Stand-in so modules can name the exception when plato_eas is missing."""


HAS_PLATO_EAS = PLATO_EAS_IMPORT_ERROR is None

# (option name, Ansible type, secret?) -- the names are plato_eas setting names and
# each one also falls back to the EAS_<NAME> environment variable the daemons read.
_CONNECTION_OPTIONS = (
    ("db_engine", "str", False),
    ("db_path", "path", False),
    ("db_host", "str", False),
    ("db_port", "int", False),
    ("db_user", "str", False),
    ("db_password", "str", True),
    ("db_name", "str", False),
    ("queue_implementation", "str", False),
    ("mq_host", "str", False),
    ("mq_port", "int", False),
    ("mq_user", "str", False),
    ("mq_password", "str", True),
    ("mq_vhost", "str", False),
    ("mq_tls", "bool", False),
    ("mq_ca_file", "path", False),
    ("data_dir", "path", False),
    ("registry_file", "path", False),
    ("max_heartbeat_age", "float", False),
    ("config_file", "path", False),
)
_CHOICES = {
    "db_engine": ["sqlite", "mysql"],
    "queue_implementation": ["sql", "amqp"],
}

CONNECTION_OPTIONS = tuple(name for name, _type, _secret in _CONNECTION_OPTIONS)


def eas_env_fallback(*names):
    """Like Ansible's env_fallback, but an empty variable counts as unset (an AWX credential
    injects every field of its type, empty or not; plato_eas reads EAS_* the same way)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def connection_argument_spec():
    """The connection options every module accepts. No defaults: an option left unset is
    filled by plato_eas from EAS_* variables, the config file, or its built-in default."""
    spec = {}
    for name, kind, secret in _CONNECTION_OPTIONS:
        option = dict(type=kind, fallback=(eas_env_fallback, ["EAS_" + name.upper()]))
        if secret:
            option["no_log"] = True
        if name in _CHOICES:
            option["choices"] = list(_CHOICES[name])
        spec[name] = option
    return spec


def eas_argument_spec(**module_options):
    """The common connection spec plus a module's own options (which may not redefine a
    connection option: connection settings are defined once)."""
    spec = connection_argument_spec()
    clash = sorted(set(spec) & set(module_options))
    if clash:
        raise ValueError(f"module options redefine connection options: {', '.join(clash)}")
    spec.update(module_options)
    return spec


def connection_params(params):
    """The connection options that were given (module option, module_defaults or EAS_*);
    None and "" mean not given."""
    return {name: params[name] for name in CONNECTION_OPTIONS
            if params.get(name) is not None and params.get(name) != ""}


def eas_settings(params, environ=None):
    """Build the plato_eas Settings for a module's parameters (raises EasError when invalid)."""
    return load_settings(explicit=connection_params(params), environ=environ)
