#!/usr/bin/python
# Copyright: PLATO WP36 EAS team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: worker_plan_info
short_description: Plan the EAS worker Deployments (resources, replicas) from the registry
version_added: 0.1.0
description:
  - Reads the task-type registry and returns, for each worker container, what its
    Kubernetes Deployment C(eas-worker-<container>) should be - image, command, task types,
    CPU/GPU/memory requests and limits, replicas. It talks to no Kubernetes API itself; the
    C(plato.eas.eas_workers) and C(plato.eas.eas_scale) roles render and apply Deployments
    from its result with C(kubernetes.core.k8s).
  - Requests and limits are the registry's, capped to O(system_fraction) of a node (the
    prototype's C(--limit-to-system-fraction)); the node is O(node_capacity) when given, else
    the smallest schedulable node among O(nodes) (e.g. the C(resources) of
    C(kubernetes.core.k8s_info) for kind C(Node)), else there is no cap. GPUs are whole
    devices and only bounded by the node's GPU count.
  - With O(scaling), replicas come from queue depths (O(queue_depths), or the live queues
    read through the connection options) within per-container bounds and a resource budget.
author:
  - PLATO WP36 EAS team (@plato-wp36)
options:
  containers:
    description:
      - Worker containers to plan for. Default every container of the registry.
    type: list
    elements: str
  node_capacity:
    description:
      - Allocatable resources of one node to cap against; keys C(cpu) (cores or a quantity
        such as V(3800m)), C(memory_gb), C(gpu). Overrides O(nodes).
    type: dict
  nodes:
    description:
      - Node objects as the Kubernetes API returns them; the smallest allocatable CPU and
        memory among schedulable nodes is the cap's base.
    type: list
    elements: dict
    default: []
  system_fraction:
    description:
      - Largest fraction of a node one worker pod may request. Default V(0.25).
    type: float
  replicas:
    description:
      - Replicas per container (container name -> count) when not scaling. Default 1 each.
    type: dict
    default: {}
  images:
    description:
      - Image per container (container name -> image), overriding the registry's.
    type: dict
    default: {}
  scaling:
    description:
      - Plan replicas from queue depths instead of O(replicas). Keys (all optional)
        C(min_replicas) and C(max_replicas) (container -> count), C(default_min) (0),
        C(default_max) (4), C(tasks_per_replica) (10), C(budget_cpu), C(budget_memory_gb),
        C(budget_gpu) (unset = unlimited), C(shared_container) (gets the queues of task
        types every container runs; default the registry's first container).
    type: dict
  queue_depths:
    description:
      - Messages waiting per queue (task type). When omitted with O(scaling), the live
        queue depths are read from the task database or broker (connection options).
    type: dict
extends_documentation_fragment:
  - plato.eas.connection
  - plato.eas.attributes.info_module
requirements:
  - plato_eas (this repository's Python package) on the host the module runs on
seealso:
  - module: plato.eas.queue_info
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Worker Deployments, capped to a quarter of the smallest node
  plato.eas.worker_plan_info:
    nodes: "{{ (lookup('kubernetes.core.k8s', kind='Node', wantlist=True)) }}"
    replicas: {eas-tda: 3}
  register: plan

- name: Replicas from the live queue depths within 16 CPUs
  plato.eas.worker_plan_info:
    db_engine: mysql
    db_host: 127.0.0.1
    scaling:
      max_replicas: {eas-base: 4, eas-tda: 8}
      budget_cpu: 16
  register: plan

# Ad hoc: what would the registry give on an 8-core, 32 GB node?
#   ansible localhost -m plato.eas.worker_plan_info \
#     -a '{"node_capacity": {"cpu": 8, "memory_gb": 32}}'
"""

RETURN = r"""
msg:
  description: One line per planned worker Deployment.
  returned: always
  type: str
  sample: "eas-worker-eas-base: 1 replica of plato-eas-worker:latest (1 CPU, 2Gi)"
workers:
  description: One entry per planned worker container.
  returned: always
  type: list
  elements: dict
  sample:
    - container: eas-tda
      deployment: eas-worker-eas-tda
      image: plato-eas-worker:latest
      command: [eas, worker, --container, eas-tda]
      task_types: [execution_chain, transit_search_bls]
      resources: {requests: {cpu: "1", memory: 2Gi}, limits: {cpu: "1", memory: 2Gi}}
      capped: [cpu, memory]
      replicas: 2
node:
  description: The node capacity the caps were computed from (null values are unknown).
  returned: always
  type: dict
  sample: {cpu: 4.0, memory_gb: 8.0, gpu: null}
fraction:
  description: The system fraction used.
  returned: always
  type: float
  sample: 0.25
scaling:
  description: With O(scaling), how the replicas were chosen, else null.
  returned: always
  type: dict
  sample:
    replicas: {eas-base: 1, eas-tda: 2}
    demand: {eas-base: 25, eas-tda: 40}
    wanted: {eas-base: 3, eas-tda: 4}
    used: {cpu: 3.0, memory_gb: 6.0, gpu: 0}
    over_budget: false
    queue_depths: {"null": 25, transit_search_bls: 40}
"""

from ansible_collections.plato.eas.plugins.module_utils.eas_module import EasModule

ARGUMENT_SPEC = dict(
    containers=dict(type="list", elements="str"),
    node_capacity=dict(type="dict"),
    nodes=dict(type="list", elements="dict", default=[]),
    system_fraction=dict(type="float"),
    replicas=dict(type="dict", default={}),
    images=dict(type="dict", default={}),
    scaling=dict(type="dict"),
    queue_depths=dict(type="dict"),
)


def main():
    EasModule(ARGUMENT_SPEC).execute("worker_plan", options=(
        "containers", "node_capacity", "nodes", "system_fraction", "replicas", "images",
        "scaling", "queue_depths"), check_mode=False)


if __name__ == "__main__":
    main()
