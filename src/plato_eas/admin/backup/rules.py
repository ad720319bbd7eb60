"""What a restore accepts, on either engine: the definitions and rows of plato_eas's own
tables (``eas_*``), and nothing that computes, reads or writes anything else.

A table definition may name columns, types (with sizes), keys and literal defaults; it may not
hold an expression (a CHECK, a generated column, a DEFAULT in parentheses, a function call),
since an expression in a definition is evaluated later, by every row inserted.
"""

from __future__ import annotations

import re

# A table of ours; short enough that a scratch name built from it (and its foreign keys'
# names) stays within the usual 64-character limit on names.
OURS = re.compile(r"eas_[A-Za-z0-9_]{1,36}")
TYPE_WORDS = frozenset("""
    TINYINT SMALLINT MEDIUMINT INT INTEGER BIGINT FLOAT DOUBLE REAL DECIMAL NUMERIC BIT BOOL
    BOOLEAN CHAR NCHAR VARCHAR NVARCHAR CHARACTER VARYING BINARY VARBINARY TINYTEXT TEXT
    MEDIUMTEXT LONGTEXT CLOB TINYBLOB BLOB MEDIUMBLOB LONGBLOB DATE TIME DATETIME TIMESTAMP
    YEAR ENUM
""".split())
# Words after which a parenthesis opens a column list, not an expression.
KEY_WORDS = frozenset({"KEY", "UNIQUE", "INDEX"})
EXPRESSION_WORDS = frozenset({"CHECK", "AS", "GENERATED", "SELECT"})


def is_ours(name: str) -> bool:
    return OURS.fullmatch(name) is not None


class DefinitionCheck:
    """Feed it the tokens of a CREATE TABLE body one by one: it refuses expressions.

    ``(`` may follow only a type (a size), a key word, a quoted name (an index's columns) or
    a referenced table (its key); after anything else it would open an expression or call a
    function."""

    def __init__(self) -> None:
        self.previous = ("", "")

    def __call__(self, kind: str, text: str, table: bool = False) -> str | None:
        """None, or why the token is refused; ``table``: the token names a table."""
        word = text.upper() if kind == "word" else ""
        if word in EXPRESSION_WORDS:
            return f"{word} in a table definition (an expression) is not table data"
        if text == "(" and not self._opens_list():
            return "an expression in a table definition is not table data"
        self.previous = ("table" if table else kind, word)
        return None

    def _opens_list(self) -> bool:
        kind, word = self.previous
        return kind in ("ident", "table") or word in TYPE_WORDS or word in KEY_WORDS
