"""The transit-search task types: ``transit_search_tls``, ``transit_search_bls_reference``
(astropy's BLS), ``transit_search_bls_kovacs`` (our numpy BLS) and ``transit_search_qats``
(our numpy QATS, Carter & Agol 2013).

Input ``lightcurve``; optional output ``debugging`` (a .tar.gz holding the periodogram as
ECSV and the result as JSON). Fields: ``lc_duration`` [d] searches only the first N days of the
light curve; ``search_settings`` {period_min, period_max [d], duration_min, duration_max [d],
duration_count, frequency_factor} bounds the search (defaults: periods 0.5 d to half the
span, durations 0.05-0.3 d); QATS also takes max_ttv_mag (the fractional width f of its
spacing windows, default 0.01).

Output metadata: period [d], power (the algorithm's statistic: BLS log-likelihood for astropy,
signal residue for Kovács, SDE for TLS), depth [relative flux], duration [d], t0 [d]; snr
(astropy BLS, TLS, QATS), sde (TLS), transit_count (TLS, QATS), period_span, first_transit
and last_transit [d] (QATS); the injected signal's strength copied from the
light curve (integrated_transit_power, pixels_in_transit, mes); and the QC's outcome (PASS when
the period is within 3 % of the injected ``orbital_period``, else FAIL; UNDEFINED when nothing
was injected) and target_period [d].
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any, Callable

from ..lightcurve import LightCurve
from ..search import bls_kovacs, bls_reference, qats, tls
from ..search.result import SearchGrid, SearchResult, grid_from
from ..taskkit import (
    TaskInputError,
    convert,
    input_metadata,
    numbers_only,
    read_input,
    setting,
    threads,
)
from . import QcResult, science_task
from .quality import detection_outcome

PROPAGATED = ("integrated_transit_power", "pixels_in_transit", "mes")
INJECTED_KEY = "orbital_period"


def _write_debugging(path: Path, result: SearchResult, metadata: dict[str, Any]) -> None:
    from astropy.table import Table

    periodogram = io.StringIO()
    Table({"period": result.periods, "power": result.powers},
          units={"period": "d"}).write(periodogram, format="ascii.ecsv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("periodogram.ecsv", periodogram.getvalue()),
                           ("result.json", json.dumps(metadata, indent=1, sort_keys=True))):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))


def run_search(run, algorithm: Callable[..., SearchResult],
               own: dict[str, tuple[type, Any]] | None = None) -> dict[str, Any]:
    """Read, check and search the input light curve; ``own`` names the algorithm's own
    search_settings (name -> (type, default)), passed to it as keyword arguments."""
    lc = read_input(run, "lightcurve").truncated(setting(run, "lc_duration"))
    if len(lc) < 10:
        raise TaskInputError(f"{run.task_type}: the light curve has only {len(lc)} samples")
    bad = lc.non_finite()
    if bad:
        raise TaskInputError(f"{run.task_type}: light curve has non-finite values {bad}")
    settings = run.description.get("search_settings") or {}
    if not isinstance(settings, dict):
        raise TaskInputError(f"{run.task_type}: search_settings must be an object")
    own = own or {}
    try:
        grid = grid_from(settings, lc.span, own)
    except ValueError as exc:
        raise TaskInputError(f"{run.task_type}: {exc}") from None
    options = {name: convert(run.task_type, name, settings.get(name, default), kind)
               for name, (kind, default) in own.items()}
    run.log.info("%s: %d samples over %.2f d, periods %.3g-%.4g d", run.task_type, len(lc),
                 lc.span, grid.period_min, grid.resolved_period_max(lc.span))
    result = algorithm(lc, grid, **options)
    metadata = result.metadata()
    metadata.update(numbers_only(lc.metadata, PROPAGATED))
    if lc.metadata.get(INJECTED_KEY) is not None:
        metadata["injected_period"] = lc.metadata[INJECTED_KEY]
    if "debugging" in run.outputs:
        _write_debugging(Path(run.outputs["debugging"]), result, metadata)
    run.log.info("%s: best period %.5f d (power %.4g)", run.task_type, result.period,
                 result.power)
    return metadata


def search_qc(run, metadata: dict[str, Any]) -> QcResult:
    """Detection outcome against the period injected into the input light curve (from the
    task database's metadata for the file, else the file's own header)."""
    injected = input_metadata(run, "lightcurve").get(INJECTED_KEY,
                                                     metadata.get("injected_period"))
    extra = detection_outcome(metadata.get("period"), injected)
    verdicts = {sem: Path(path).is_file() and Path(path).stat().st_size > 0
                for sem, path in run.outputs.items()}
    return verdicts, extra


@science_task(search_qc)
def transit_search_tls(run) -> dict[str, Any]:
    count = threads(run)
    run.log.info("TLS using %d thread(s)", count)
    return run_search(run, lambda lc, grid: tls.search(lc, grid, threads=count))


@science_task(search_qc)
def transit_search_bls_reference(run) -> dict[str, Any]:
    return run_search(run, bls_reference.search)


@science_task(search_qc)
def transit_search_bls_kovacs(run) -> dict[str, Any]:
    return run_search(run, bls_kovacs.search)


QATS_SETTINGS: dict[str, tuple[type, Any]] = {"max_ttv_mag": (float, qats.DEFAULT_MAX_TTV_MAG)}


@science_task(search_qc)
def transit_search_qats(run) -> dict[str, Any]:
    count = threads(run)

    def algorithm(lc: LightCurve, grid: SearchGrid, max_ttv_mag: float) -> SearchResult:
        if not 0 < max_ttv_mag < 1:
            raise TaskInputError(f"transit_search_qats: max_ttv_mag must lie between 0 and 1, "
                                 f"not {max_ttv_mag}")
        run.log.info("QATS using %d thread(s)", count)
        try:
            return qats.search(lc, grid, max_ttv_mag=max_ttv_mag, threads=count)
        except ValueError as exc:
            raise TaskInputError(f"transit_search_qats: {exc}") from None

    return run_search(run, algorithm, QATS_SETTINGS)
