"""Backup strategy for SQLite: ``iterdump()`` of a snapshot; a restore runs nothing but the
definitions and rows of our tables, in a scratch database, before one transaction swaps them in.

* **Save.** SQLite's online backup API copies the database into an anonymous scratch
  database (SQLite deletes its file as it opens it: nothing is left behind, even after
  SIGKILL); tables, views and triggers that are not ours are dropped there, and
  ``iterdump()`` writes the rest.
* **Restore.** Every statement is checked against the grammar below (what ``iterdump()``
  writes: BEGIN TRANSACTION, CREATE TABLE/INDEX and INSERT on ``eas_*`` tables, the
  ``sqlite_sequence`` rows, COMMIT), then run on its own in a fresh anonymous scratch database
  that cannot ATTACH (limit 0) and whose authorizer permits nothing but creating and filling
  ``eas_*`` tables. Only once the whole dump has loaded, passed ``integrity_check`` and the
  schema-version check is the target attached and, in one transaction, its ``eas_*`` tables
  replaced by the scratch's. Tables that are not ours are never touched.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import BinaryIO, Callable

from ...db import Database
from ...errors import BackupError
from ...settings import Settings
from .dumpfile import TRAILER, DumpInfo, DumpReader, fail
from .rules import DefinitionCheck, is_ours
from .scanner import COMMENTS, MAX_STATEMENT, Scanner, Statements, Token

NAME = "sqlite"
PATTERN = re.compile(r"""
     (?P<ws>[ \t\r\n]+)
    |(?P<line_comment>--[^\n]*)
    |(?P<block_comment>/\*.*?\*/)
    |(?P<open_comment>/\*.*)
    |(?P<blob>[xX]'[0-9A-Fa-f]*')
    |(?P<string>'[^']*(?:''[^']*)*')
    |(?P<open_string>'.*)
    |(?P<ident>"[^"]*(?:""[^"]*)*"|`[^`]*(?:``[^`]*)*`|\[[^\]]*\])
    |(?P<open_ident>["`\[].*)
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<punct>[(),;=<>!+*/%|&~.-])
    |(?P<bad>.)
""", re.VERBOSE | re.DOTALL)
SEQUENCE = "sqlite_sequence"
TARGET = "eas_restore_target"  # the schema name the target is attached under for the swap
TABLE_OPTIONS = frozenset({"WITHOUT", "ROWID", "STRICT"})


def dump_name(settings: Settings) -> str:
    return Path(settings.db_path).stem


def _open_scratch() -> sqlite3.Connection:
    """A private on-disk database that SQLite unlinks as it creates it."""
    conn = sqlite3.connect("", isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # thrown away on any failure anyway
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- save ---------------------------------------------------------------------------------
def save(settings: Settings, db: Database, out: BinaryIO) -> None:
    snapshot = _open_scratch()
    try:
        db.conn.backup(snapshot)  # a consistent copy while writers go on
        _keep_only_ours(snapshot)
        for statement in snapshot.iterdump():
            out.write((statement + "\n").encode())
    except sqlite3.Error as exc:
        raise BackupError(f"cannot dump SQLite database {settings.db_path}: {exc}") from None
    finally:
        snapshot.close()


def _keep_only_ours(conn: sqlite3.Connection) -> None:
    objects = conn.execute("SELECT type, name FROM sqlite_master "
                           "WHERE type IN ('table', 'view', 'trigger')").fetchall()
    for kind, name in objects:
        if kind != "table" or not (is_ours(name) or name == SEQUENCE):
            conn.execute(f"DROP {kind.upper()} IF EXISTS {_quoted(name)}")
    if SEQUENCE in {name for _, name in objects}:
        others = [n for (n,) in conn.execute("SELECT name FROM sqlite_sequence") if not is_ours(n)]
        conn.executemany("DELETE FROM sqlite_sequence WHERE name = ?", [(n,) for n in others])


# -- the grammar of a restorable dump -----------------------------------------------------
class _Dump:
    """Walks a dump statement by statement, refusing anything but our table data, and hands
    each accepted statement (its SQL and first line) to ``run``."""

    def __init__(self, info: DumpInfo, reader: DumpReader):
        self.info = info
        self.parts: list[str] = []
        self.st = Statements(Scanner(reader), PATTERN, self.parts.append)
        self.tables: list[str] = []
        self.table_ddl: list[str] = []  # CREATE statements with the target's schema name
        self.index_ddl: list[str] = []

    def walk(self, run: Callable[[str, int], None]) -> None:
        st, path = self.st, self.info.path
        begun = committed = ended = False
        while (token := st.next(comments=True)) is not None:
            if token.kind in COMMENTS:
                ended = ended or token.text.rstrip() == TRAILER
                continue
            if ended or committed:
                raise fail(path, token.line, f"SQL after the {'end marker' if ended else 'COMMIT'}")
            self.parts.clear()
            st.begin(token)
            keyword = token.text.upper() if token.kind == "word" else ""
            if not begun:
                if keyword != "BEGIN":
                    raise self._not_a_dump()
                self._take(token)
                self._end(optional="TRANSACTION")
                begun = True
            elif keyword == "COMMIT":
                self._take(token)
                self._end()
                committed = True
            elif keyword in ("CREATE", "INSERT", "DELETE"):
                getattr(self, f"_{keyword.lower()}")(token)
                run("".join(self.parts), st.start)
            else:
                raise st.refuse(f"{token.text[:40]} statements are not table data")
        if not begun:
            raise self._not_a_dump()
        if not committed:
            raise fail(path, st.scanner.line, "the dump has no COMMIT (it is truncated)")
        if self.info.tool == "db_save" and not ended:
            raise BackupError(f"dump file {path} is truncated (no end marker)")
        self.info.tables = list(self.tables)
        self.info.tool = self.info.tool or "iterdump"

    def _not_a_dump(self) -> BackupError:
        if self.info.tool is None:
            return BackupError(f"{self.info.path} is not a db_save dump (unrecognised first line)")
        return self.st.refuse("a SQLite dump must start with BEGIN TRANSACTION")

    # statements
    def _create(self, token: Token) -> None:
        st = self.st
        self._take(token)
        kind = self._next_in_statement().text.upper()
        if kind not in ("TABLE", "INDEX", "UNIQUE"):
            raise st.refuse(f"CREATE {kind[:40]} is not table data")
        self.st.emit(kind)
        if kind == "UNIQUE":
            kind = self._take(st.expect("INDEX", "INDEX")).text.upper()
        name_token = self._name_after_if_not_exists()
        at = len(self.parts)
        name = self._take_name(name_token)
        if kind == "TABLE":
            if not is_ours(name) or name in self.tables:
                raise st.refuse(f"CREATE TABLE {name[:64]}: not a table of plato_eas (eas_*)"
                                if not is_ours(name) else f"table {name} is created twice")
            self._table_body()
            self.tables.append(name)
        else:
            self._index_body()
        ddl = "".join(self.parts[:at]) + f"{TARGET}." + "".join(self.parts[at:])
        (self.table_ddl if kind == "TABLE" else self.index_ddl).append(ddl)

    def _name_after_if_not_exists(self) -> Token:
        token = self.st.expect("a name", "IF", kinds=("word", "ident"))
        if token.kind == "word" and token.text.upper() == "IF":
            self._take(token)
            self._take(self.st.expect("NOT", "NOT"))
            self._take(self.st.expect("EXISTS", "EXISTS"))
            token = self.st.expect("a name", kinds=("word", "ident"))
        return token

    def _table_body(self) -> None:
        st, check, depth = self.st, DefinitionCheck(), 0
        self._take(st.expect("(", kinds=("punct",)), "(")
        depth = 1
        while depth:
            token = self._next_in_statement()
            references = check.previous == ("word", "REFERENCES")
            if references and not is_ours(self._unquote(token)):
                raise st.refuse("a reference to a table that is not ours", token.line)
            reason = check(token.kind, token.text, table=references)
            if reason:
                raise st.refuse(reason, token.line)
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            self._take(token)
        while (token := self._next_in_statement()).text != ";":
            if token.text != "," and token.text.upper() not in TABLE_OPTIONS:
                raise st.refuse(f"table option {token.text[:40]!r} is not table data", token.line)
            self._take(token)
        self._take(token)

    def _index_body(self) -> None:
        st = self.st
        self._take(st.expect("ON", "ON"))
        table = self._take_name(st.expect("a table name", kinds=("word", "ident")))
        if not is_ours(table):
            raise st.refuse(f"an index on {table[:64]}, which is not a table of ours")
        self._take(st.expect("(", kinds=("punct",)), "(")
        while (token := self._next_in_statement()).text != ";":
            if token.text == "(":
                raise st.refuse("an expression in an index is not table data", token.line)
            self._take(token)
        self._take(token)

    def _insert(self, token: Token) -> None:
        st = self.st
        self._take(token)
        self._take(st.expect("INTO", "INTO"))
        table = self._take_name(st.expect("a table name", kinds=("word", "ident")))
        if table not in self.tables and table != SEQUENCE:
            raise st.refuse(f"INSERT into {table[:64]}: not a table of this dump's (eas_*)")
        token = self._next_in_statement()
        if token.text == "(":
            self._take(token)
            self._list(lambda t: t.kind in ("word", "ident"), "column names")
            token = self._next_in_statement()
        if token.text.upper() != "VALUES":
            raise st.refuse("only INSERT ... VALUES of literal rows is table data", token.line)
        self._take(token)
        while True:
            self._take(st.expect("(", kinds=("punct",)), "(")
            self._list(self._literal, "literal values")
            if self._take(st.expect("',' or ';'", kinds=("punct",)), ",", ";").text == ";":
                return

    def _delete(self, token: Token) -> None:
        self._take(token)
        self._take(self.st.expect("FROM", "FROM"))
        if self._take_name(self.st.expect("a table name", kinds=("word", "ident"))) != SEQUENCE:
            raise self.st.refuse("DELETE is not table data (only sqlite_sequence is reset)")
        self._end()

    # pieces
    def _list(self, accept: Callable[[Token], bool], what: str) -> None:
        """Items accepted by ``accept``, separated by commas, up to the closing parenthesis."""
        while True:
            token = self._next_in_statement()
            if token.text in ("-", "+") and what == "literal values":
                self._take(token)
                token = self._next_in_statement()
                if token.kind != "number":
                    raise self.st.refuse(f"only {what} are table data", token.line)
            elif not accept(token):
                raise self.st.refuse(f"only {what} are table data", token.line)
            self._take(token)
            if self._take(self.st.expect("',' or ')'", kinds=("punct",)), ",", ")").text == ")":
                return

    @staticmethod
    def _literal(token: Token) -> bool:
        return (token.kind in ("string", "number", "blob")
                or (token.kind == "word" and token.text.upper() == "NULL"))

    def _next_in_statement(self) -> Token:
        token = self.st.next()
        if token is None:
            raise self.st.refuse("the dump ends inside a statement")
        return token

    def _end(self, optional: str = "") -> None:
        token = self._next_in_statement()
        if optional and token.kind == "word" and token.text.upper() == optional:
            self._take(token)
            token = self._next_in_statement()
        if token.text != ";":
            raise self.st.refuse(f"unexpected {token.text[:40]!r}", token.line)
        self._take(token)

    def _take(self, token: Token, *texts: str) -> Token:
        if texts and token.text not in texts:
            raise self.st.refuse(f"expected {' or '.join(texts)}, found {token.text[:40]!r}",
                                 token.line)
        self.st.emit(token.text)
        return token

    def _take_name(self, token: Token) -> str:
        self._take(token)
        return self._unquote(token)

    @staticmethod
    def _unquote(token: Token) -> str:
        if token.kind != "ident":
            return token.text
        quote = token.text[0]
        inner = token.text[1:-1]
        return inner if quote == "[" else inner.replace(quote * 2, quote)


def check(info: DumpInfo) -> None:
    """Reads the whole dump once, refusing anything but our table data; changes nothing."""
    with DumpReader(info.path) as reader:
        _Dump(info, reader).walk(lambda sql, line: None)
    info.engine = NAME


# -- restore ------------------------------------------------------------------------------
_A = sqlite3


def _authorize(action: int, arg1, arg2, schema, trigger) -> int:
    """Only creating and filling our tables (and SQLite's own bookkeeping for that)."""
    if schema not in (None, "main"):
        return _A.SQLITE_DENY
    allowed = {
        _A.SQLITE_CREATE_TABLE: lambda: is_ours(arg1) or arg1 == SEQUENCE,
        _A.SQLITE_CREATE_INDEX: lambda: is_ours(arg2),
        _A.SQLITE_INSERT: lambda: is_ours(arg1) or arg1 in (SEQUENCE, "sqlite_master"),
        _A.SQLITE_UPDATE: lambda: arg1 == "sqlite_master",
        _A.SQLITE_DELETE: lambda: arg1 == SEQUENCE,
        _A.SQLITE_READ: lambda: is_ours(arg1) or arg1 == "sqlite_master",
        _A.SQLITE_REINDEX: lambda: True,
    }.get(action)
    return _A.SQLITE_OK if allowed is not None and allowed() else _A.SQLITE_DENY


def restore(settings: Settings, db: Database, info: DumpInfo,
            check_version: Callable[[int | None], None]) -> None:
    scratch = _open_scratch()
    try:
        scratch.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        scratch.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_STATEMENT * 4)
        dump = _load(scratch, info)
        problem = scratch.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"dump file {info.path} loads into a damaged database: {problem}")
        check_version(_schema_version(scratch, dump.tables))
        db.conn  # noqa: B018 - the dialect creates a missing database file (private, WAL)
        db.close()
        _swap(scratch, dump, Path(settings.db_path))
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {info.path} into {settings.db_path}: {exc}") from None
    finally:
        scratch.close()


def _load(scratch: sqlite3.Connection, info: DumpInfo) -> _Dump:
    def run(sql: str, line: int) -> None:
        try:
            scratch.execute(sql)
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise fail(info.path, line, f"refused by SQLite: {exc}") from None

    with DumpReader(info.path) as reader:
        dump = _Dump(info, reader)
        scratch.execute("BEGIN")
        scratch.set_authorizer(_authorize)
        try:
            dump.walk(run)
        finally:
            scratch.set_authorizer(None)
        scratch.execute("COMMIT")
    return dump


def _schema_version(conn: sqlite3.Connection, tables: list[str]) -> int | None:
    from ...model.schema import TABLE_NAMES

    if not set(tables) & set(TABLE_NAMES):
        return None
    if "eas_schema_version" not in tables:
        return 0
    return conn.execute("SELECT MAX(version) FROM eas_schema_version").fetchone()[0] or 0


def _swap(scratch: sqlite3.Connection, dump: _Dump, target: Path) -> None:
    """In one transaction on the target: drop its tables of ours, create and fill the
    dump's, set their sequences. The target's other tables are left as they are."""
    scratch.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 1)
    scratch.execute(f"ATTACH DATABASE ? AS {TARGET}", (str(target),))
    scratch.execute("PRAGMA busy_timeout = 60000")
    scratch.execute("BEGIN IMMEDIATE")
    try:
        old = [n for (n,) in scratch.execute(
            "SELECT name FROM eas_restore_target.sqlite_master WHERE type = 'table'")
            if is_ours(n)]
        for name in old:  # names of ours (checked), here and below
            scratch.execute(f"DROP TABLE {TARGET}.{_quoted(name)}")
        for ddl in dump.table_ddl:
            scratch.execute(ddl)
        for name in dump.tables:
            scratch.execute(f"INSERT INTO {TARGET}.{_quoted(name)} "  # noqa: S608
                            f"SELECT * FROM main.{_quoted(name)}")
        for ddl in dump.index_ddl:
            scratch.execute(ddl)
        _copy_sequences(scratch, dump.tables)
        scratch.execute("COMMIT")
    except BaseException:
        scratch.execute("ROLLBACK")
        raise


def _copy_sequences(scratch: sqlite3.Connection, tables: list[str]) -> None:
    """The dump's AUTOINCREMENT counters: the next row never reuses an id it had."""
    if not all(scratch.execute(sql).fetchone()[0] for sql in (
            "SELECT COUNT(*) FROM main.sqlite_master WHERE name = 'sqlite_sequence'",
            "SELECT COUNT(*) FROM eas_restore_target.sqlite_master "
            "WHERE name = 'sqlite_sequence'")):
        return
    rows = [r for r in scratch.execute("SELECT name, seq FROM main.sqlite_sequence")
            if r[0] in tables]
    scratch.executemany("DELETE FROM eas_restore_target.sqlite_sequence WHERE name = ?",
                        [(r[0],) for r in rows])
    scratch.executemany("INSERT INTO eas_restore_target.sqlite_sequence (name, seq) "
                        "VALUES (?, ?)", rows)
