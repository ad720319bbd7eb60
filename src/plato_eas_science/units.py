"""Units of the metadata items the science task types read and write (astropy unit strings).

Metadata travels as plain numbers (in the database and in light-curve headers); this table is
the one place that says what they mean. A FITS header card carries its unit as ``[unit]`` at
the start of its comment, the FITS convention.
"""

METADATA_UNITS: dict[str, str] = {
    # synthesis specs and what they record
    "duration": "d",
    "t0": "d",
    "orbital_period": "d",
    "semi_major_axis": "AU",
    "planet_radius": "jupiterRad",
    "star_radius": "jupiterRad",
    "orbital_angle": "deg",
    "impact_parameter": "",
    "eccentricity": "",
    "sampling_cadence": "s",
    "noise": "",
    "mes_assume_noise": "",
    "nsr": "ppm h(1/2)",
    "integrated_transit_power": "",
    "pixels_in_transit": "",
    "pixels_out_of_transit": "",
    "mes": "",
    # verify
    "verification_time_min": "d",
    "verification_time_max": "d",
    "verification_flux_min": "",
    "verification_flux_max": "",
    # transit searches
    "period": "d",
    "target_period": "d",
    "depth": "",
    "transit_count": "",
    "power": "",
    "sde": "",
    "snr": "",
    "period_span": "",
    "first_transit": "d",
    "last_transit": "d",
    "injected_period": "d",
    "lc_duration": "d",
}


def unit_of(name: str) -> str | None:
    """The unit of a metadata item, '' for a dimensionless one, None when unknown."""
    return METADATA_UNITS.get(name)
