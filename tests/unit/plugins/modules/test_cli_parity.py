"""Every plato.eas module option has its `eas` flag (and every connection option a global
one), so the command line and the collection cannot drift apart."""

import argparse
import importlib
import os

import pytest

from plato_eas.cli.parser import SETTINGS, build_parser

MODULES = "ansible_collections.plato.eas.plugins.modules."

# module -> the eas command doing the same thing (the words after `eas`)
COMMANDS = {
    "schema": ["init"],
    "queues": ["queues"],
    "submit": ["submit"],
    "schedule": ["schedule"],
    "reschedule": ["reschedule"],
    "empty_queue": ["empty-queue"],
    "local_run": ["run"],
    "db_save": ["save"],
    "db_restore": ["restore"],
    "progress_info": ["report", "progress"],
    "job_tree_info": ["report", "job_tree"],
    "errors_info": ["report", "errors"],
    "timings_info": ["report", "timings"],
    "pass_fail_info": ["report", "pass_fail"],
    "queue_info": ["report", "queue"],
    "task_info": ["task", "show"],
    "logs_info": ["logs"],
    "worker_plan_info": ["worker-plan"],
    "jobs_info": ["jobs"],
    "cancel": ["cancel"],
}
# (module, option) -> the CLI destination that takes its place
TAKEN_BY = {
    ("submit", "chain"): "src",  # an inline chain: `eas submit -` reads it from standard input
}
PASSWORDS = {"db_password", "mq_password"}  # never on a command line, on purpose


def module_names():
    root = importlib.import_module("ansible_collections.plato.eas").__path__[0]
    return sorted(n[:-3] for n in os.listdir(os.path.join(root, "plugins", "modules"))
                  if n.endswith(".py") and not n.startswith("_"))


def command_parser(words):
    parser = build_parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def test_every_module_has_its_command():
    assert sorted(COMMANDS) == module_names()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_module_option_has_its_flag(name):
    from ansible_collections.plato.eas.plugins.module_utils.common import CONNECTION_OPTIONS

    module = importlib.import_module(MODULES + name)
    own = set(module.ARGUMENT_SPEC) - set(CONNECTION_OPTIONS)
    dests = {a.dest for a in command_parser(COMMANDS[name])._actions}
    wanted = {TAKEN_BY.get((name, option), option) for option in own}
    assert wanted - dests == set(), f"eas {' '.join(COMMANDS[name])} lacks flags for these"


def test_every_connection_option_but_the_passwords_is_a_global_flag():
    from ansible_collections.plato.eas.plugins.module_utils.common import CONNECTION_OPTIONS

    assert set(CONNECTION_OPTIONS) - PASSWORDS == set(SETTINGS)
