"""The benchmark's workloads as plain dependency graphs, shared by every runner (each runs in
its own virtual environment, so this file imports nothing but the standard library).

A graph is a list of (name, [names it depends on]) in an order where dependencies come first.
"""

from __future__ import annotations

GRID_LOOPS = (3, 20, 20)  # method x size x period: 1,200 loop bodies
BODY = (("noise", ()), ("transit", ()), ("combine", ("noise", "transit")),
        ("verify", ("combine",)), ("search", ("combine",)))  # 5 tasks per body


def flat(n: int) -> list[tuple[str, list[str]]]:
    return [(f"t{i}", []) for i in range(n)]


def fan(n: int) -> list[tuple[str, list[str]]]:
    """1 -> n -> 1."""
    mids = [f"m{i}" for i in range(n)]
    return [("first", []), *((m, ["first"]) for m in mids), ("last", mids)]


def grid_bodies() -> list[str]:
    a, b, c = GRID_LOOPS
    return [f"{i}_{j}_{k}" for i in range(a) for j in range(b) for k in range(c)]


def grid() -> list[tuple[str, list[str]]]:
    """1,200 bodies of the large grid's five tasks (6,000 tasks)."""
    return [(f"{name}_{body}", [f"{d}_{body}" for d in deps])
            for body in grid_bodies() for name, deps in BODY]


def graph(workload: str, size: int) -> list[tuple[str, list[str]]]:
    if workload == "flat":
        return flat(size)
    if workload == "fan":
        return fan(size)
    if workload == "grid":
        return grid()
    raise ValueError(f"unknown workload {workload}")
