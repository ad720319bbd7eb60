"""The PLATO WP36 science task types: light-curve synthesis, tools and transit searches.

A separate package from the control plane (``plato_eas``), installed by the ``science`` extra
and registered through the ``plato_eas.tasks`` entry points exactly as an outside team's package
would be. It depends on numpy, astropy, batman-package, transitleastsquares and psls; the
control plane never imports it.
"""
