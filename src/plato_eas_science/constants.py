"""Physical constants in the units the task specs use (the prototype's values, so light curves
synthesised from the same specs have the same geometry)."""

SUN_RADIUS_M = 695500e3
EARTH_RADIUS_M = 6371e3
JUPITER_RADIUS_M = 71492e3
AU_M = 149597870700.0

# The Sun's radius in Jupiter radii: the default host star of the synthesis task types.
SUN_RADIUS_RJ = SUN_RADIUS_M / JUPITER_RADIUS_M
# One AU in Jupiter radii (semi-major axes are given in AU, radii in Jupiter radii).
AU_RJ = AU_M / JUPITER_RADIUS_M
# Noise of one PLATO 25 s sample (relative flux), from PSLS; the chains' constants.plato_noise.
PLATO_NOISE_25S = 0.000315
SECONDS_PER_DAY = 86400.0
