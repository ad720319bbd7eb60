"""Light-curve synthesis: transit models (batman) and stellar light curves (PSLS)."""
