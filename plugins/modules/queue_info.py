#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: queue_info
short_description: Messages waiting in the EAS job queues
version_added: 0.1.0
description:
  - For each queue (task type), the number of attempts waiting, and their ids when there are
    few. Looks without consuming anything, for either queue implementation.
  - Replaces the prototype's C(diagnostics/display_message_queue.py).
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  queues:
    description:
      - Queues (task types) to show. Default every queue.
    type: list
    elements: str
  show_ids:
    description:
      - List the waiting attempt ids of a queue when it holds at most this many messages.
        Default V(20).
    type: int
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
seealso:
  - module: plato.eas.empty_queue
"""

EXAMPLES = r"""
- name: Queue depths
  plato.eas.queue_info:
  register: queue

- name: Print them
  ansible.builtin.debug:
    msg: "{{ queue.table.splitlines() }}"

# Ad hoc, against RabbitMQ (password from EAS_MQ_PASSWORD):
#   ansible localhost -m plato.eas.queue_info -a 'queue_implementation=amqp mq_host=rabbitmq'
"""

RETURN = r"""
rows:
  description: One entry per queue, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - {"queue": "null", "messages": 2, "ids": [14, 15]}
    - {"queue": "transit_search_bls", "messages": 500, "ids": null}
total_messages:
  description: Messages waiting in all the queues shown.
  returned: always
  type: int
  sample: 502
table:
  description: The same as a text table.
  returned: always
  type: str
  sample: |-
    Queue               Messages  Ids
    null                2         14, 15
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    queues=dict(type="list", elements="str"),
    show_ids=dict(type="int"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("report", "queue", options=("queues", "show_ids"),
                                     check_mode=False)


if __name__ == "__main__":
    main()
