#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: queues
short_description: Declare the EAS job queues and record the queue implementation
version_added: 0.1.0
description:
  - Declares one job queue per task type known to the task database, for the queue
    implementation chosen with O(queue_implementation) (V(sql) - the attempt table is the
    queue, nothing to declare; V(amqp) - one durable RabbitMQ queue per task type).
  - Records that choice in the task database, so workers and the scheduler agree on it.
  - RabbitMQ queues are declared with C(x-max-priority), so that the broker delivers the
    attempts of higher priority first. RabbitMQ cannot change the arguments of an existing
    queue; a queue declared without priorities (by an earlier release) is declared again
    with them when it is empty and has no consumer. One that still holds messages keeps
    working first in, first out and is listed in RV(without_priority), with a warning - empty
    it (M(plato.eas.empty_queue)), run this module again, then M(plato.eas.reschedule).
  - Requires the schema (M(plato.eas.schema)) to exist.
  - Replaces the prototype's C(database_initialisation/init_queues.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
extends_documentation_fragment:
  - plato.eas.connection
attributes:
  check_mode:
    support: full
    description: >-
      Reports the queues that would be declared and changes nothing. For V(amqp) the broker
      is not contacted, so every queue is reported as to be declared.
  diff_mode:
    support: full
    description: Lists the queues declared and the implementation change.
  idempotent:
    support: full
    description: A second run reports no change.
seealso:
  - module: plato.eas.schema
  - module: plato.eas.queue_info
"""

EXAMPLES = r"""
- name: Use the task database as the queue (embedded default)
  plato.eas.queues:
    queue_implementation: sql

- name: Declare RabbitMQ queues (password from EAS_MQ_PASSWORD)
  plato.eas.queues:
    queue_implementation: amqp
    mq_host: rabbitmq.plato.svc
    mq_user: eas
"""

RETURN = r"""
msg:
  description: One line saying what was done (in check mode, what would be done).
  returned: always
  type: str
  sample: "11 queues ready; recorded queue implementation sql"
implementation:
  description: The queue implementation recorded in the database.
  returned: always
  type: str
  sample: sql
previous_implementation:
  description: The implementation recorded before this run (null when none was).
  returned: always
  type: str
  sample: null
queues:
  description: Every queue (one per task type).
  returned: always
  type: list
  elements: str
  sample: ["execution_chain", "null", "error"]
declared:
  description: The queues newly declared by this run (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: []
upgraded:
  description: Queues declared without priorities that this run declared again with them.
  returned: always
  type: list
  elements: str
  sample: ["null"]
without_priority:
  description: Queues still without priorities, with the messages each holds.
  returned: always
  type: dict
  sample: {"transit_search_tls": 1200}
"""

from ansible_collections.plato.eas.plugins.module_utils.diffs import queues_diff
from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict()


def main():
    EasModule(ARGUMENT_SPEC).execute("init_queues", diff=queues_diff)


if __name__ == "__main__":
    main()
