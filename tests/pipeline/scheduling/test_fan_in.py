"""A task that reads many files is queued by the transaction that records the last of them,
whatever order they come in, and never before (the recording transaction remembers which
input a waiting task still lacks, and checks that one first)."""

from __future__ import annotations

import pytest
from pipeline_helpers import attempt_rows

from plato_eas import actions
from plato_eas.worker.worker import Worker


def _fan_in(priorities: list[int]) -> dict:
    producers = [{"task": "null", "name": f"p{i}", "priority": prio,
                  "outputs": {"x": f"p{i}.lc"}} for i, prio in enumerate(priorities)]
    reader = {"task": "null", "name": "reader", "priority": 5,
              "inputs": {f"x{i}": f"p{i}.lc" for i in range(len(priorities))}}
    return {"job_name": "fan_in", "task_list": [*producers, reader]}


def _names(settings, **where) -> list[str]:
    return [r["taskName"] for r in attempt_rows(settings)
            if all(r[k] == v for k, v in where.items())]


@pytest.mark.parametrize("priorities", [
    [3, 2, 1, 0],  # in the order they were registered
    [0, 1, 2, 3],  # the last registered first
    [3, 1, 2, 0],  # mixed
])
def test_a_fan_in_task_is_queued_by_the_last_input_and_not_before(installed, priorities):
    actions.submit(installed, chain=_fan_in(priorities))
    actions.schedule(installed)
    worker = Worker(installed)
    assert worker.run(until_empty=True, max_attempts=1) == 1  # the chain: producers queued
    order = [f"p{i}" for i in sorted(range(len(priorities)), key=lambda i: -priorities[i])]
    for count, name in enumerate(order, start=1):
        assert Worker(installed).run(until_empty=True, max_attempts=1) == 1
        assert _names(installed, isFinished=1)[1:] == order[:count]
        queued = "reader" in _names(installed)
        assert queued == (count == len(order)), (name, count)  # no pass in between
    assert Worker(installed).run(until_empty=True) == 1
    assert _names(installed, isFinished=1, errorFail=0)[-1] == "reader"
