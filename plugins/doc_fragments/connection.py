# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every plato.eas module."""


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  db_engine:
    description:
      - Task database engine.
      - When not set, the value comes from E(EAS_DB_ENGINE), then O(config_file), then
        the built-in default V(sqlite).
    type: str
    choices: [sqlite, mysql]
  db_path:
    description:
      - SQLite database file (O(db_engine=sqlite) only).
      - Environment variable E(EAS_DB_PATH). Default C(<python prefix>/var/plato-eas/eas.sqlite),
        or C($EAS_HOME/eas.sqlite) when E(EAS_HOME) is set.
    type: path
  db_host:
    description:
      - MySQL/MariaDB server host name (O(db_engine=mysql) only).
      - Environment variable E(EAS_DB_HOST). Default V(localhost).
    type: str
  db_port:
    description:
      - MySQL/MariaDB server port.
      - Environment variable E(EAS_DB_PORT). Default V(3306).
    type: int
  db_user:
    description:
      - MySQL/MariaDB user name.
      - Environment variable E(EAS_DB_USER). Default V(eas).
    type: str
  db_password:
    description:
      - MySQL/MariaDB password. Never logged or returned.
      - Environment variable E(EAS_DB_PASSWORD) (what an AWX credential injects).
    type: str
  db_name:
    description:
      - MySQL/MariaDB database name.
      - Environment variable E(EAS_DB_NAME). Default V(plato_eas).
    type: str
  queue_implementation:
    description:
      - Job queue implementation. V(sql) uses the task database's attempt table as the queue,
        V(amqp) uses RabbitMQ.
      - Environment variable E(EAS_QUEUE_IMPLEMENTATION). Default V(sql).
    type: str
    choices: [sql, amqp]
  mq_host:
    description:
      - RabbitMQ host name (O(queue_implementation=amqp) only).
      - Environment variable E(EAS_MQ_HOST). Default V(localhost).
    type: str
  mq_port:
    description:
      - RabbitMQ AMQP port.
      - Environment variable E(EAS_MQ_PORT). Default V(5672).
    type: int
  mq_user:
    description:
      - RabbitMQ user name.
      - Environment variable E(EAS_MQ_USER). Default V(guest).
    type: str
  mq_password:
    description:
      - RabbitMQ password. Never logged or returned.
      - Environment variable E(EAS_MQ_PASSWORD) (what an AWX credential injects).
    type: str
  mq_vhost:
    description:
      - RabbitMQ virtual host.
      - Environment variable E(EAS_MQ_VHOST). Default V(/).
    type: str
  mq_tls:
    description:
      - Connect to RabbitMQ over TLS (AMQPS, usually port V(5671)). The broker's certificate
        is verified, host name included, against O(mq_ca_file) or else the system's trusted
        CAs.
      - Environment variable E(EAS_MQ_TLS). Default V(false).
    type: bool
  mq_ca_file:
    description:
      - PEM file of the CA certificate(s) that signed the broker's certificate, for a broker
        with a private CA (O(mq_tls=true) only).
      - Environment variable E(EAS_MQ_CA_FILE).
    type: path
  data_dir:
    description:
      - Root of the input/output file repository; task working directories live under
        C(<data_dir>/output).
      - Environment variable E(EAS_DATA_DIR). Default C(<python prefix>/var/plato-eas/data),
        or C($EAS_HOME/data) when E(EAS_HOME) is set.
    type: path
  registry_file:
    description:
      - YAML task-type registry overriding the one shipped in C(plato_eas) (worker containers
        and the task types each runs).
      - Environment variable E(EAS_REGISTRY_FILE).
    type: path
  max_heartbeat_age:
    description:
      - Seconds after which a running attempt without a heartbeat counts as stalled.
      - Environment variable E(EAS_MAX_HEARTBEAT_AGE). Default V(300).
    type: float
  config_file:
    description:
      - YAML file holding any of these settings (the file the worker and scheduler daemons
        read). Options given to the module, and E(EAS_*) environment variables, win over it.
      - Environment variable E(EAS_CONFIG_FILE).
    type: path
notes:
  - >-
    Precedence of each connection setting, highest first - module option (or
    C(module_defaults) for C(group/plato.eas.eas)), E(EAS_*) environment variable,
    O(config_file), built-in default.
  - >-
    The modules run where C(plato_eas) and its database/broker drivers are installed,
    normally the control node (C(hosts: localhost) or C(delegate_to: localhost)).
requirements:
  - python >= 3.11
  - plato_eas (the pipeline package of this collection's repository, C(pip install .))
  - PyMySQL (only for O(db_engine=mysql))
  - pika (only for O(queue_implementation=amqp))
"""
