from pathlib import Path

import pytest

from plato_eas.errors import ConfigError
from plato_eas.settings import Settings, load_settings


def test_defaults_live_in_one_per_installation_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("EAS_HOME", str(tmp_path / "home"))
    s = load_settings(environ={})
    assert s.db_engine == "sqlite" and s.queue_implementation == "sql"
    assert Path(s.db_path).parent == tmp_path / "home"
    assert Path(s.data_dir) == tmp_path / "home" / "data"
    assert s.output_dir == tmp_path / "home" / "data" / "output"


def test_precedence_file_then_environment_then_explicit(tmp_path):
    cfg = tmp_path / "eas.yml"
    cfg.write_text("db_engine: mysql\ndb_host: from-file\ndb_port: 3307\nmq_user: file\n")
    env = {"EAS_CONFIG_FILE": str(cfg), "EAS_DB_HOST": "from-env", "EAS_DB_PASSWORD": "s3cret"}
    s = load_settings({"db_port": 3310, "mq_user": None}, environ=env)
    assert (s.db_engine, s.db_host, s.db_port, s.mq_user) == ("mysql", "from-env", 3310, "file")
    assert s.db_password == "s3cret"


def test_secrets_are_masked_and_not_in_repr():
    s = Settings(db_password="s3cret", mq_password="hunter2")
    assert "s3cret" not in repr(s) and "hunter2" not in repr(s)
    assert s.public()["db_password"] == "********"
    assert "s3cret" not in str(s.public())


@pytest.mark.parametrize("values, message", [
    ({"db_engine": "oracle"}, "db_engine must be"),
    ({"queue_implementation": "kafka"}, "queue_implementation must be"),
    ({"db_port": "abc"}, "db_port must be a int"),
    ({"colour": "blue"}, "unknown setting(s) in options: colour"),
])
def test_bad_settings_fail_with_one_line(values, message):
    with pytest.raises(ConfigError) as err:
        load_settings(values, environ={})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_config_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config_file"):
        load_settings({"config_file": str(tmp_path / "missing.yml")}, environ={})
    bad = tmp_path / "bad.yml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings({"config_file": str(bad)}, environ={})
