"""One database access layer for both engines (SQLite and MySQL/MariaDB).

Code elsewhere writes SQL once, with ``?`` placeholders, and runs it through
:class:`~plato_eas.db.database.Database`; every engine difference lives in
:mod:`plato_eas.db.dialects`.
"""

from .database import Database, Tx, chunks, marks

__all__ = ["Database", "Tx", "chunks", "marks"]
