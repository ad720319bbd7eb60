"""``ingest_external_lcs``: bring light curves made elsewhere into the pipeline.

Fields: ``lc_type`` — ``lcsg`` (the light-curve stitching group's CSV files, the default) or
``prototype`` (the prototype pipeline's text light curves with their ``.metadata.cfg``);
``input_path`` — a glob pattern inside the input data directory. Each matching file is converted
to the native FITS format in the task's working directory as ``<name>.fits`` (its metadata
kept); when the task declares an output ``lightcurve`` and exactly one file matches, that file
is written there instead, so later tasks can take it as their input. Output metadata:
ingested_count and ingested_files.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from ..formats import LightCurveFormatError, read_lcsg, read_prototype_text, write_lightcurve
from ..taskkit import TaskInputError, write_output
from . import science_task

READERS = {"lcsg": read_lcsg, "prototype": read_prototype_text}
DEFAULT_PATTERN = "lightcurves_v2/csvs/bright/plato_bright*"


def _matches(root: Path, pattern: str) -> list[Path]:
    if pattern.startswith("/") or ".." in Path(pattern).parts:
        raise TaskInputError(f"ingest_external_lcs: input_path {pattern!r} must stay inside "
                             "the input data directory")
    root = root.resolve()
    found = []
    for name in sorted(glob.glob(str(root / pattern))):
        path = Path(name).resolve()
        if path.is_file() and root in path.parents and not name.endswith(".metadata.cfg"):
            found.append(path)
    return found


@science_task()
def ingest_external_lcs(run) -> dict[str, Any]:
    lc_type = str(run.description.get("lc_type", "lcsg"))
    if lc_type not in READERS:
        raise TaskInputError(f"ingest_external_lcs: lc_type must be one of "
                             f"{', '.join(sorted(READERS))}, not {lc_type!r}")
    root = run.input_dir
    if root is None:
        raise TaskInputError("ingest_external_lcs: this run has no input data directory")
    pattern = str(run.description.get("input_path", DEFAULT_PATTERN))
    paths = _matches(Path(root), pattern)
    if not paths:
        raise TaskInputError(f"ingest_external_lcs: no file matches {pattern!r} in the input "
                             "data directory")
    if "lightcurve" in run.outputs and len(paths) != 1:
        raise TaskInputError(f"ingest_external_lcs: output 'lightcurve' needs exactly one "
                             f"matching file, {len(paths)} match {pattern!r}")
    written = []
    for path in paths:
        try:
            lc = READERS[lc_type](path)
        except LightCurveFormatError as exc:
            raise TaskInputError(f"ingest_external_lcs: {exc}") from None
        lc.metadata.setdefault("source_file", path.name)
        if "lightcurve" in run.outputs:
            written.append(write_output(run, "lightcurve", lc).name)
        else:
            target = Path(run.working_dir) / (path.name.removesuffix(".gz") + ".fits")
            written.append(write_lightcurve(lc, target).name)
        run.log.info("ingested %s (%d samples) as %s", path.name, len(lc), written[-1])
    return {"ingested_count": len(written), "ingested_files": written}
