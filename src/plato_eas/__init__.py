"""PLATO WP36 EAS pipeline: task database, job queues, scheduler, workers and reports.

This package never imports Ansible; the `plato.eas` collection in `plugins/` is a thin layer
over :mod:`plato_eas.actions`.
"""

__version__ = "0.1.0"
