"""``python -m plato_eas.cli``: the ``eas`` command."""

import sys

from . import main

sys.exit(main())
