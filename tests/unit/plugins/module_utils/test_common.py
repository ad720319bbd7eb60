"""The shared glue: connection argument spec -> plato_eas Settings (SPEC §9, §12)."""

import dataclasses

import pytest
from ansible_collections.plato.eas.plugins.module_utils import common

from plato_eas.errors import ConfigError
from plato_eas.settings import Settings

SETTINGS_FIELDS = {f.name for f in dataclasses.fields(Settings)}


def test_plato_eas_is_importable_here():
    assert common.HAS_PLATO_EAS, common.PLATO_EAS_IMPORT_ERROR
    assert common.EasError.__module__ == "plato_eas.errors"


def test_every_connection_option_is_a_setting_named_after_it():
    spec = common.connection_argument_spec()
    assert set(spec) == set(common.CONNECTION_OPTIONS)
    assert set(spec) <= SETTINGS_FIELDS
    for name in ("db_engine", "db_path", "db_host", "db_port", "db_user", "db_password",
                 "db_name", "queue_implementation", "mq_host", "mq_port", "mq_user",
                 "mq_password", "mq_vhost", "data_dir", "config_file", "max_heartbeat_age"):
        assert name in spec


def test_options_fall_back_to_the_daemons_environment_variables():
    spec = common.connection_argument_spec()
    for name, option in spec.items():
        fallback, (variable,) = option["fallback"]
        assert fallback is common.eas_env_fallback
        assert variable == "EAS_" + name.upper()
        # No defaults in the spec: an unset option is left to plato_eas (env, config file).
        assert "default" not in option


def test_empty_environment_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv("EAS_DB_PORT", "")
    monkeypatch.setenv("EAS_DB_HOST", "db.example.org")
    with pytest.raises(common.AnsibleFallbackNotFound):
        common.eas_env_fallback("EAS_DB_PORT")
    assert common.eas_env_fallback("EAS_DB_PORT", "EAS_DB_HOST") == "db.example.org"


def test_only_passwords_are_secret():
    spec = common.connection_argument_spec()
    secret = {name for name, option in spec.items() if option.get("no_log")}
    assert secret == {"db_password", "mq_password"}


def test_choices_match_what_settings_accepts():
    spec = common.connection_argument_spec()
    assert spec["db_engine"]["choices"] == ["sqlite", "mysql"]
    assert spec["queue_implementation"]["choices"] == ["sql", "amqp"]


def test_module_options_cannot_redefine_connection_options():
    spec = common.eas_argument_spec(job_name=dict(type="str"))
    assert spec["job_name"] == {"type": "str"}
    with pytest.raises(ValueError, match="db_path"):
        common.eas_argument_spec(db_path=dict(type="str"))


def test_only_given_options_are_passed_on():
    params = dict.fromkeys(common.CONNECTION_OPTIONS)
    params.update(db_engine="mysql", db_port=3307, db_host="", job_name="x")
    assert common.connection_params(params) == {"db_engine": "mysql", "db_port": 3307}


def test_settings_from_params(tmp_path):
    params = dict.fromkeys(common.CONNECTION_OPTIONS)
    params.update(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(tmp_path / "data"),
                  max_heartbeat_age=60.0, mq_password="s3cret", state="present")
    settings = common.eas_settings(params, environ={})
    assert settings.db_engine == "sqlite"
    assert settings.db_path == str(tmp_path / "eas.sqlite")
    assert settings.data_dir == str(tmp_path / "data")
    assert settings.max_heartbeat_age == 60.0
    assert settings.mq_password == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.public()["mq_password"] == "********"


def test_explicit_options_win_over_environment_and_config_file(tmp_path):
    config = tmp_path / "eas.yml"
    config.write_text("db_engine: mysql\ndb_host: from-file\ndb_name: file_db\n")
    params = dict.fromkeys(common.CONNECTION_OPTIONS)
    params.update(config_file=str(config), db_host="explicit")
    settings = common.eas_settings(params, environ={"EAS_DB_NAME": "env_db"})
    assert settings.db_engine == "mysql"  # from the file
    assert settings.db_name == "env_db"  # environment beats the file
    assert settings.db_host == "explicit"  # the option beats both


def test_invalid_settings_raise_eas_error(tmp_path):
    params = dict.fromkeys(common.CONNECTION_OPTIONS)
    params["config_file"] = str(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="cannot read config_file"):
        common.eas_settings(params, environ={})
