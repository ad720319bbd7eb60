"""Several parents' children registered at once (a loop's bodies) are registered as if one
family after the other: a later family reads what an earlier one writes, a file written twice
is refused and nothing is kept, and each family's ids come back in the order of its specs."""

from __future__ import annotations

import pytest

from plato_eas.chains.register import ChildSpec, register_children, register_families
from plato_eas.db import Database
from plato_eas.errors import ChainError


def _spec(name: str, inputs: dict | None = None, outputs: dict | None = None) -> ChildSpec:
    return ChildSpec(task_type="null", description={"task": "null"}, metadata={"k": name},
                     working_directory="w", job_name="fam", name=name,
                     inputs=inputs or {}, outputs=outputs or {})


def _parents(tx, count: int) -> list[int]:
    """``count`` top-level bodies to register children under."""
    return [register_children(tx, None, [ChildSpec(
        task_type="execution_chain", description={"task": "execution_chain", "task_list": []},
        metadata={}, working_directory="w", job_name="fam", name=f"body{i}")])[0]
        for i in range(count)]


def test_families_register_as_if_one_after_the_other(installed):
    with Database(installed) as db:
        def unit(tx):
            a, b = _parents(tx, 2)
            ids = register_families(tx, [
                (a, [_spec("w1", outputs={"x": "one.lc"}), _spec("r1", {"x": "one.lc"})]),
                (b, [_spec("r2", {"x": "one.lc"}, {"y": "two.lc"})])])
            rows = tx.tuples("SELECT taskId, parentTask, taskName FROM eas_task"
                             " WHERE parentTask IS NOT NULL ORDER BY taskId")
            inputs = tx.tuples("SELECT i.taskId, p.generatorTask FROM eas_task_input i"
                               " JOIN eas_product p ON p.productId = i.inputId ORDER BY 1")
            return a, b, ids, rows, inputs

        a, b, ids, rows, inputs = db.run(unit)
    assert [(p, n) for _, p, n in rows] == [(a, "w1"), (a, "r1"), (b, "r2")]
    assert ids == [[rows[0][0], rows[1][0]], [rows[2][0]]]
    assert inputs == [(rows[1][0], rows[0][0]), (rows[2][0], rows[0][0])]


def test_a_file_two_families_write_is_refused_and_nothing_is_kept(installed):
    with Database(installed) as db:
        def unit(tx):
            a, b = _parents(tx, 2)
            register_families(tx, [(a, [_spec("w1", outputs={"x": "one.lc"})]),
                                   (b, [_spec("w2", outputs={"x": "one.lc"})])])

        with pytest.raises(ChainError, match="creates pre-existing file w/one.lc"):
            db.run(unit)
        assert db.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM eas_task")) == 0
