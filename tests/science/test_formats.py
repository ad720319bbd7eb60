"""Light curves on disk: the native FITS format round-trips data, metadata and units; the
prototype's gzipped text light curves and the LCSG files are read with their metadata."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from astropy.io import fits

from plato_eas_science.formats import (
    LightCurveFormatError,
    read_lcsg,
    read_lightcurve,
    write_lightcurve,
)
from plato_eas_science.lightcurve import LightCurve

# The first lines and the metadata of a light curve the prototype wrote (PSLS, 240 days):
# time [s], flux, "flag" (the prototype wrote the fluxes again there), uncertainty.
PROTOTYPE_ROWS = """\
0.000000000000000000e+00 1.000064850418713958e+00 1.000064850418713958e+00 0.000000000000000000e+00
9.000000000000000000e+02 1.000018237225013706e+00 1.000018237225013706e+00 0.000000000000000000e+00
1.800000000000000000e+03 9.999489682246445188e-01 9.999489682246445188e-01 0.000000000000000000e+00
2.700000000000000000e+03 9.999817619420292569e-01 9.999817619420292569e-01 0.000000000000000000e+00
3.600000000000000000e+03 9.998566749934855169e-01 9.998566749934855169e-01 0.000000000000000000e+00
"""
PROTOTYPE_METADATA = """\
[metadata]
binary = 0.0
duration = 240.0
gzipped = 1.0
mes = 238.8847941922455
mode = main_sequence
orbital_period = 50.0
planet_radius = 0.35645944000000007
sampling_cadence = 900.0
"""


def sample(n=100, **metadata) -> LightCurve:
    rng = np.random.default_rng(3)
    return LightCurve(np.arange(n) * 0.01, 1 + 1e-4 * rng.standard_normal(n),
                      np.full(n, 1e-4), (np.arange(n) % 7 == 0).astype(int), metadata)


@pytest.mark.parametrize("name", ["lc.fits", "lc.gz"])
def test_native_round_trip(tmp_path, name):
    lc = sample(orbital_period=5.0, planet_radius=0.29, mode="main_sequence", enabled=True,
                Teff=5750, note="x" * 120, target_period=float("nan"))
    back = read_lightcurve(write_lightcurve(lc, tmp_path / name))
    for column in ("times", "fluxes", "uncertainties", "flags"):
        assert np.array_equal(getattr(back, column), getattr(lc, column)), column
    nan = back.metadata.pop("target_period")
    assert np.isnan(nan)
    assert back.metadata == {"orbital_period": 5.0, "planet_radius": 0.29, "Teff": 5750,
                             "mode": "main_sequence", "enabled": True, "note": "x" * 120}
    opener = gzip.open if name.endswith(".gz") else open
    with opener(tmp_path / name, "rb") as fh:
        assert fh.read(9) == b"SIMPLE  ="


def test_native_file_states_units(tmp_path):
    path = write_lightcurve(sample(orbital_period=5.0, planet_radius=0.1, mes=12.0),
                            tmp_path / "lc.fits")
    with fits.open(path) as hdus:
        assert hdus["LIGHTCURVE"].columns["TIME"].unit == "d"
        assert hdus[0].header.comments["orbital_period"] == "[d]"
        assert hdus[0].header.comments["planet_radius"] == "[jupiterRad]"


def test_reads_a_prototype_light_curve_with_its_metadata(tmp_path):
    path = tmp_path / "demo_superearth.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(PROTOTYPE_ROWS)
    (tmp_path / "demo_superearth.gz.metadata.cfg").write_text(PROTOTYPE_METADATA)
    lc = read_lightcurve(path)
    assert len(lc) == 5
    assert np.allclose(lc.times, np.arange(5) * 900 / 86400)  # seconds -> days
    assert lc.fluxes[0] == pytest.approx(1.000064850418713958)
    assert not lc.flags.any()  # the copied-flux "flags" carry no flags
    assert lc.metadata == {"duration": 240, "mes": 238.8847941922455, "mode": "main_sequence",
                           "orbital_period": 50, "planet_radius": 0.35645944000000007,
                           "sampling_cadence": 900}


def test_reads_an_lcsg_file(tmp_path):
    path = tmp_path / "plato_bright_0001.csv"
    path.write_text("# #Teff = 5600\n# #name = star one\n0.0,1.0,0\n0.5,0.99,1\n1.0,1.01,0\n")
    lc = read_lcsg(path)
    assert list(lc.flags) == [0, 1, 0] and lc.times[-1] == 1.0
    assert lc.metadata == {"filename": "plato_bright_0001.csv", "Teff": 5600, "name": "star one"}


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"\x1f\x8b\x08garbage"])
def test_unreadable_files_get_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.gz"
    path.write_bytes(content)
    with pytest.raises(LightCurveFormatError, match="bad.gz"):
        read_lightcurve(path)
