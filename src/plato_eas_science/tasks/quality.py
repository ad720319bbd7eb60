"""Quality-control checks shared by the task types."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..formats import LightCurveFormatError, read_lightcurve

DETECTION_TOLERANCE = 0.03  # a search passes when it finds the period within 3 %


def lightcurve_problems(path: Path, expected_length: int | None = None,
                        required_metadata: Iterable[str] = ()) -> list[str]:
    """What is wrong with a written light curve (empty list = it passes)."""
    try:
        lc = read_lightcurve(path)
    except LightCurveFormatError as exc:
        return [str(exc)]
    problems = [f"{count} non-finite {column}" for column, count in lc.non_finite().items()]
    if not len(lc):
        problems.append("no samples")
    if expected_length is not None and len(lc) != expected_length:
        problems.append(f"{len(lc)} samples, expected {expected_length}")
    missing = [name for name in required_metadata if name not in lc.metadata]
    if missing:
        problems.append(f"metadata lacks {', '.join(missing)}")
    return problems


def detection_outcome(detected_period: Any, injected_period: Any) -> dict[str, Any]:
    """``outcome`` PASS when the detected period is within 3 % of the injected one, FAIL
    otherwise, UNDEFINED when either is unknown; ``target_period`` is the injected period."""
    try:
        target = float(injected_period)
        found = float(detected_period)
    except (TypeError, ValueError):
        return {"outcome": "UNDEFINED"}
    if not (target > 0 and found > 0):
        return {"outcome": "UNDEFINED", "target_period": target}
    passed = abs(found / target - 1.0) < DETECTION_TOLERANCE
    return {"outcome": "PASS" if passed else "FAIL", "target_period": target}
