"""Task implementations: plain Python callables registered by name.

A science code ships its own package and registers its callables under the
``plato_eas.tasks`` entry-point group (``name = "package.module:function"``); the test types
``null`` and ``error`` are registered the same way by plato_eas itself.
"""

from .api import TaskRun, implementation, implementations

__all__ = ["TaskRun", "implementation", "implementations"]
