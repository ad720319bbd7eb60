"""Backup strategy for MySQL/MariaDB: ``mariadb-dump`` of our tables; a restore loads only
their definitions and rows, into scratch tables, and swaps them in with one RENAME TABLE.

* **Save.** ``mariadb-dump --single-transaction`` (a consistent InnoDB snapshot that does
  not lock writers) of the ``eas_*`` tables only, streamed into the dump file.
* **Restore.** The dump is read twice, block by block. The first pass checks it and changes
  nothing: only what our save writes is accepted (DROP TABLE IF EXISTS, CREATE TABLE and
  INSERT of literal rows on ``eas_*`` tables, ALTER TABLE ... DISABLE/ENABLE KEYS, LOCK and
  UNLOCK TABLES, and the session SET lines mariadb-dump puts around them); anything else is
  refused with its line number. The second pass sends exactly the checked tokens (comments
  dropped, lines kept) to the ``mariadb`` client run with ``--sandbox --binary-mode
  --one-database``, with every table name of ours rewritten to a scratch name beside it
  (``_eas_new_<random>_eas_task``): no CREATE DATABASE privilege is needed and the live
  tables are not touched while the dump loads. Only when it has loaded and its schema
  version is known to be supported does one atomic ``RENAME TABLE`` retire our tables and
  put the loaded ones in their place; the retired ones are then dropped. On any failure the
  scratch tables are dropped and the database is as it was. Tables that are not ours are
  never touched.
* **Options.** The tools read the connection and the password from an anonymous pipe
  (``--defaults-file=/dev/fd/N``): no file holds the password, no command line shows it,
  and no other option file (``~/.my.cnf``, ``/etc/mysql``) is read.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from typing import BinaryIO, Callable, Iterator

from ...db import Database
from ...errors import BackupError
from ...settings import Settings
from .dumpfile import TRAILER, DumpInfo, DumpReader, fail
from .rules import TYPE_WORDS, DefinitionCheck, is_ours
from .scanner import COMMENTS, Scanner, Statements, Token

NAME = "mysql"
CHUNK = 1 << 16
_STRING = r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'"
_LITERAL = (rf"(?:{_STRING}|NULL|-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
            rf"|0[xX][0-9A-Fa-f]+|[xX]'[0-9A-Fa-f]*'|_binary[ ]?{_STRING})")
_TOKENS = rf"""
     (?P<ws>[ \t\r\n]+)
    |(?P<line_comment>(?:--(?=[ \t\r\n]|\Z)|\#)[^\n]*)
    |(?P<exec_comment>/\*M?!.*?\*/)
    |(?P<block_comment>/\*.*?\*/)
    |(?P<open_comment>/\*.*)
    |(?P<hex>0[xX][0-9A-Fa-f]+|[xX]'[0-9A-Fa-f]*')
    |(?P<string>{_STRING})
    |(?P<open_string>'.*)
    |(?P<ident>`[^`]*(?:``[^`]*)*`)
    |(?P<open_ident>`.*)
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<punct>[(),;=.@-])
    |(?P<command>\\.?)
    |(?P<bad>.)
"""
PATTERN = re.compile(_TOKENS, re.VERBOSE | re.DOTALL)
# In an INSERT's VALUES: a whole row of literals as one token (the common case, fast); a row
# that does not match (a long value, say) is read token by token instead.
ROW_PATTERN = re.compile(rf"(?P<row>\((?:\s*{_LITERAL}\s*,)*\s*{_LITERAL}\s*\))|{_TOKENS}",
                         re.VERBOSE | re.DOTALL)
SANDBOX = re.compile(r"/\*M!\d*\\- enable the sandbox mode \*/")
EXECUTABLE = re.compile(r"/\*(M?!\d*)(.*)\*/", re.DOTALL)
KEYS = re.compile(r"\s*ALTER TABLE `(\w+)` (DISABLE|ENABLE) KEYS\s*", re.IGNORECASE)
DUMP_TOOLS = ("-- MariaDB dump", "-- MySQL dump")

# Words a table definition may hold besides types (no expressions: see rules.py).
DEFINITION_WORDS = TYPE_WORDS | frozenset("""
    UNSIGNED SIGNED ZEROFILL NOT NULL DEFAULT AUTO_INCREMENT PRIMARY KEY UNIQUE INDEX
    CONSTRAINT FOREIGN REFERENCES ON DELETE UPDATE CASCADE RESTRICT SET NO ACTION CHARACTER
    CHARSET COLLATE COMMENT USING BTREE HASH PRECISION ASC DESC TRUE FALSE
""".split())
OPTION_WORDS = frozenset("""
    ENGINE AUTO_INCREMENT DEFAULT CHARSET CHARACTER SET COLLATE ROW_FORMAT COMMENT
    PAGE_CHECKSUM TRANSACTIONAL DYNAMIC COMPACT REDUNDANT COMPRESSED PAGE FIXED
""".split())
ENGINES = frozenset({"INNODB", "MYISAM", "ARIA"})
CHARSET = re.compile(r"(?:utf8mb4|utf8mb3|utf8|latin1|binary)(?:_[a-z0-9]+)*", re.IGNORECASE)

# The session settings a dump may make, and the literal values each may take. Nothing that
# changes how the client or the server reads quotes and backslashes (ANSI_QUOTES,
# NO_BACKSLASH_ESCAPES, a multi-byte character set such as GBK) is among them.
SQL_MODES = frozenset("""
    NO_AUTO_VALUE_ON_ZERO STRICT_TRANS_TABLES STRICT_ALL_TABLES NO_ENGINE_SUBSTITUTION
    ERROR_FOR_DIVISION_BY_ZERO NO_ZERO_DATE NO_ZERO_IN_DATE ONLY_FULL_GROUP_BY
    NO_AUTO_CREATE_USER NO_DIR_IN_CREATE TRADITIONAL
""".split())
_CHARSET_NAMES = {"UTF8MB4", "UTF8MB3", "UTF8", "LATIN1", "BINARY"}
SESSION_VALUES: dict[str, Callable[[str], bool]] = {
    "NAMES": lambda v: v.strip("'").upper() in _CHARSET_NAMES,
    "CHARACTER_SET_CLIENT": lambda v: v.strip("'").upper() in _CHARSET_NAMES,
    "CHARACTER_SET_RESULTS": lambda v: v.strip("'").upper() in _CHARSET_NAMES,
    "COLLATION_CONNECTION": lambda v: CHARSET.fullmatch(v.strip("'")) is not None,
    "TIME_ZONE": lambda v: re.fullmatch(r"'(?:[+-]\d\d:\d\d|SYSTEM|UTC)'", v, re.I) is not None,
    "UNIQUE_CHECKS": lambda v: v in ("0", "1"),
    "FOREIGN_KEY_CHECKS": lambda v: v in ("0", "1"),
    "SQL_NOTES": lambda v: v in ("0", "1"),
    "NOTE_VERBOSITY": lambda v: re.fullmatch(r"\d+|'[A-Za-z_,]*'", v) is not None,
    "SQL_MODE": lambda v: re.fullmatch(r"'[A-Z_,]*'", v) is not None
    and set(filter(None, v.strip("'").split(","))) <= SQL_MODES,
}
_ASSIGNMENT = re.compile(r"""\s*(?P<target>@@(?:session\.)?\w+|@\w+|\w+)(?:\s*=\s*|\s+)
                             (?P<value>@@(?:session\.)?\w+|@\w+|'[^'\\]*'|\w+)\s*(?:,|\Z)""",
                         re.VERBOSE | re.IGNORECASE)


def dump_name(settings: Settings) -> str:
    return settings.db_name


# -- the client tools ---------------------------------------------------------------------
def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{names[0]} not found: install the MariaDB client tools "
                      "(Debian: mariadb-client)")


def _option_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@contextlib.contextmanager
def _options(settings: Settings) -> Iterator[tuple[int, str]]:
    """The connection and credentials in a pipe that the tool reads as its only option
    file: the password is never written to disk, whatever happens to this process."""
    text = (f"[client]\nhost={_option_value(settings.db_host)}\nport={int(settings.db_port)}\n"
            # as pymysql: 'localhost' means TCP, not the Unix socket
            f"protocol=TCP\nuser={_option_value(settings.db_user)}\n"
            f"password={_option_value(settings.db_password)}\n").encode()
    if len(text) > 4096:  # the pipe must take it all before the tool starts reading
        raise BackupError("the database connection settings are too long")
    read, write = os.pipe()
    try:
        os.write(write, text)
        os.close(write)
        write = -1
        yield read, f"--defaults-file=/dev/fd/{read}"
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


def _environment() -> dict[str, str]:
    """The tools' environment without the variables they read settings from (MYSQL_PWD,
    MYSQL_HOST, MYSQL_TCP_PORT...)."""
    return {k: v for k, v in os.environ.items()
            if not k.upper().startswith(("MYSQL", "MARIADB", "LIBMYSQL"))}


def _tool_error(tool: str, stderr: bytes, code: int) -> str:
    lines = [ln.strip() for ln in stderr[:65536].decode("utf-8", "replace").splitlines()
             if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR") or "error" in ln.lower()]
    line = (errors or [ln for ln in lines if "Warning" not in ln and set(ln) != {"-"}]
            or ["no message"])[0]
    if "unknown option" in line and "sandbox" in line:
        line += (" (restoring needs the MariaDB client with --sandbox: 10.5.25, 10.6.18, "
                 "10.11.8, 11.0.6 or later)")
    return f"{tool} failed (exit {code}): {line}"


@contextlib.contextmanager
def _run(settings: Settings, cmd: list[str], **popen) -> Iterator[subprocess.Popen]:
    """``cmd`` with our option pipe as its first argument; killed if still running when
    the block is left (by an error or an interruption)."""
    with _options(settings) as (fd, option), tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([cmd[0], option, *cmd[1:]], stderr=errors, pass_fds=(fd,),
                                env=_environment(), **popen)
        proc.errors = errors
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _failure(tool: str, proc: subprocess.Popen) -> str:
    proc.errors.seek(0)
    return _tool_error(tool, proc.errors.read(), proc.returncode)


# -- save ---------------------------------------------------------------------------------
def save(settings: Settings, db: Database, out: BinaryIO) -> None:
    tables = sorted(n for n in db.read(lambda tx: tx.dialect.table_names(tx)) if is_ours(n))
    cmd = [_tool("mariadb-dump", "mysqldump"), "--single-transaction", "--quick",
           "--skip-add-locks", "--skip-triggers", "--hex-blob", "--no-tablespaces",
           "--default-character-set=utf8mb4", "--", settings.db_name, *tables]
    with _run(settings, cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE) as proc:
        for block in iter(lambda: proc.stdout.read(CHUNK), b""):
            out.write(block)
        if proc.wait() != 0:
            raise BackupError(_failure("mysqldump", proc))


# -- the grammar of a restorable dump -----------------------------------------------------
class _Dump:
    """Walks a dump, refusing anything but our table data; passes the accepted tokens to
    ``emit`` with each table name of ours given by ``name`` (the scratch name)."""

    def __init__(self, info: DumpInfo, reader: DumpReader, emit: Callable[[str], None],
                 name: Callable[[str], str] = lambda table: table):
        self.info = info
        self.st = Statements(Scanner(reader), PATTERN, emit)
        self.name = name
        self.tables: list[str] = []
        self.saved: dict[str, str] = {}  # user variable -> the session variable it holds

    def walk(self) -> None:
        st, path = self.st, self.info.path
        statements, recognised, completed, ended = 0, self.info.tool is not None, False, False
        while (token := st.next(comments=True)) is not None:
            if token.kind in COMMENTS:
                text = token.text.rstrip()
                recognised = recognised or text.startswith(DUMP_TOOLS)
                completed = completed or text.startswith("-- Dump completed")
                ended = ended or text == TRAILER
                continue
            if token.kind == "exec_comment" and SANDBOX.fullmatch(token.text) and not statements:
                continue  # mariadb-dump's own "--sandbox" line; we run the client so anyway
            if not recognised:
                raise BackupError(f"{path} is not a db_save dump (unrecognised first line)")
            if completed or ended:
                raise fail(path, token.line, "SQL after the end of the dump")
            st.begin(token)
            self._statement(token)
            statements += 1
        if not recognised:
            raise BackupError(f"{path} is not a db_save dump (unrecognised first line)")
        if not completed:
            raise BackupError(f"dump file {path} is truncated (no 'Dump completed' line)")
        if self.info.tool == "db_save" and not ended:
            raise BackupError(f"dump file {path} is truncated (no end marker)")
        self.info.tables = list(self.tables)
        self.info.tool = self.info.tool or "mysqldump"

    def _statement(self, token: Token) -> None:
        if token.kind == "exec_comment":
            return self._executable(token)
        if token.kind == "command":
            raise self.st.refuse(f"client command {token.text} is not table data")
        keyword = token.text.upper() if token.kind == "word" else ""
        handler = {"DROP": self._drop, "CREATE": self._create, "INSERT": self._insert,
                   "LOCK": self._lock, "UNLOCK": self._unlock}.get(keyword)
        if handler is None:
            raise self.st.refuse(f"{token.text[:40]!r} is not table data of plato_eas")
        self._take(token)
        handler()

    # statements
    def _executable(self, token: Token) -> None:
        version, inner = EXECUTABLE.fullmatch(token.text).groups()
        keys = KEYS.fullmatch(inner)
        if keys:
            self._table(keys.group(1), created=True)
            pad = "\n" * token.text.count("\n")
            self.st.emit(f"/*{version} ALTER TABLE `{self.name(keys.group(1))}` "
                         f"{keys.group(2).upper()} KEYS */{pad}")
        elif inner.strip()[:4].upper() == "SET ":
            self._settings(inner.strip()[4:])
            self.st.emit(token.text)
        else:
            raise self.st.refuse(f"executable comment {inner.strip()[:40]!r} is not a "
                                 "session setting of a dump")
        self._end()

    def _drop(self) -> None:
        for word in ("TABLE", "IF", "EXISTS"):
            self._take(self.st.expect(word, word))
        self._table_name(created=False)
        self._end()

    def _create(self) -> None:
        st = self.st
        token = self._next_in_statement()
        if token.text.upper() != "TABLE":
            raise st.refuse(f"CREATE {token.text[:40]} is not table data")
        self._take(token)
        table = self._table_name(created=False)
        if table in self.tables:
            raise st.refuse(f"table {table} is created twice")
        self.tables.append(table)
        self._take(st.expect("(", kinds=("punct",)), "(")
        check, depth, previous = DefinitionCheck(), 1, ""
        while depth:
            token = self._next_in_statement()
            word = token.text.upper() if token.kind == "word" else ""
            if token.kind == "word" and word not in DEFINITION_WORDS \
                    and not CHARSET.fullmatch(token.text):
                raise st.refuse(f"{token.text[:40]!r} in a table definition is not table data",
                                token.line)
            if token.kind not in ("word", "ident", "string", "number", "punct") \
                    or (token.kind == "punct" and token.text not in "(),-"):
                raise st.refuse(f"{token.text[:40]!r} in a table definition is not table data",
                                token.line)
            reason = check(token.kind, token.text, table=previous == "REFERENCES")
            if reason:
                raise st.refuse(reason, token.line)
            if token.kind == "ident" and previous in ("REFERENCES", "CONSTRAINT"):
                self._definition_name(token, table, previous)
            else:
                self._take(token)
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            previous = word or token.kind
        self._table_options()

    def _definition_name(self, token: Token, table: str, previous: str) -> None:
        name = self._unquote(token)
        if previous == "REFERENCES":
            if not is_ours(name):
                raise self.st.refuse(f"a reference to {name[:64]}, which is not a table of ours",
                                     token.line)
            self.st.emit(f"`{self.name(name)}`")
            return
        number = re.fullmatch(re.escape(table) + r"_ibfk_(\d{1,2})", name)
        if not number:
            raise self.st.refuse(f"constraint name {name[:64]!r} (expected {table}_ibfk_N)",
                                 token.line)
        self.st.emit(f"`{self.name(table)}_ibfk_{number.group(1)}`")

    def _table_options(self) -> None:
        previous = ""
        while (token := self._next_in_statement()).text != ";":
            word = token.text.upper() if token.kind == "word" else ""
            if previous == "ENGINE" and token.text != "=" and word not in ENGINES:
                raise self.st.refuse(f"ENGINE {token.text[:40]} is not allowed", token.line)
            allowed = (word in OPTION_WORDS or (word and CHARSET.fullmatch(token.text))
                       or word in ENGINES or token.kind in ("number", "string")
                       or token.text == "=")
            if not allowed:
                raise self.st.refuse(f"table option {token.text[:40]!r} is not allowed",
                                     token.line)
            self._take(token)
            previous = word if token.text != "=" else previous
        self._take(token)

    def _insert(self) -> None:
        st = self.st
        self._take(st.expect("INTO", "INTO"))
        self._table_name(created=True)
        token = self._next_in_statement()
        if token.text == "(":
            self._take(token)
            self._items(lambda t: t.kind == "ident", "column names")
            token = self._next_in_statement()
        if token.text.upper() != "VALUES":
            raise st.refuse("only INSERT ... VALUES of literal rows is table data", token.line)
        self._take(token)
        while True:
            token = self._next_in_statement(ROW_PATTERN)
            if token.kind == "row":
                self._take(token)
            else:
                self._take(token, "(")
                self._items(self._literal, "literal values")
            token = self._next_in_statement(ROW_PATTERN)
            if self._take(token, ",", ";").text == ";":
                return

    def _lock(self) -> None:
        self._take(self.st.expect("TABLES", "TABLES"))
        self._table_name(created=True)
        self._take(self.st.expect("WRITE", "WRITE"))
        self._end()

    def _unlock(self) -> None:
        self._take(self.st.expect("TABLES", "TABLES"))
        self._end()

    # pieces
    def _settings(self, assignments: str) -> None:
        """``SET a = b, ...`` of a mariadb-dump preamble: session settings from the list
        above, saved to and restored from user variables."""
        pos = 0
        while pos < len(assignments):
            m = _ASSIGNMENT.match(assignments, pos)
            if not m or m.end() == pos:
                raise self.st.refuse(f"SET {assignments[pos:pos + 40]!r} is not a session "
                                     "setting of a dump")
            self._assignment(m.group("target"), m.group("value"))
            pos = m.end()

    def _assignment(self, target: str, value: str) -> None:
        def session(name: str) -> str:
            return re.sub(r"^@@(?:session\.)?", "", name, flags=re.I).upper()

        if target.startswith("@") and not target.startswith("@@"):
            if not value.startswith("@@") or session(value) not in SESSION_VALUES:
                raise self.st.refuse(f"SET {target} = {value[:40]} is not a session setting")
            self.saved[target.upper()] = session(value)
            return
        name = session(target)
        if name not in SESSION_VALUES:
            raise self.st.refuse(f"SET {target[:40]} is not a session setting a dump may make")
        restores = value.startswith("@") and self.saved.get(value.upper()) == name
        if not (restores or (not value.startswith("@") and SESSION_VALUES[name](value))):
            raise self.st.refuse(f"SET {target} = {value[:40]} is not allowed")

    def _items(self, accept: Callable[[Token], bool], what: str) -> None:
        while True:
            token = self._next_in_statement()
            if what == "literal values" and token.text == "-":
                self._take(token)
                token = self._next_in_statement()
                if token.kind != "number":
                    raise self.st.refuse(f"only {what} are table data", token.line)
            elif what == "literal values" and token.kind == "word" \
                    and token.text.lower() == "_binary":
                self._take(token)
                token = self._next_in_statement()
                if token.kind != "string":
                    raise self.st.refuse(f"only {what} are table data", token.line)
            elif not accept(token):
                raise self.st.refuse(f"only {what} are table data", token.line)
            self._take(token)
            if self._take(self._next_in_statement(), ",", ")").text == ")":
                return

    @staticmethod
    def _literal(token: Token) -> bool:
        return (token.kind in ("string", "number", "hex")
                or (token.kind == "word" and token.text.upper() == "NULL"))

    def _table_name(self, created: bool) -> str:
        token = self.st.expect("a table name", kinds=("ident",))
        name = self._unquote(token)
        self._table(name, created)
        self.st.emit(f"`{self.name(name)}`")
        return name

    def _table(self, name: str, created: bool) -> None:
        if not is_ours(name):
            raise self.st.refuse(f"table {name[:64]!r} is not a table of plato_eas (eas_*)")
        if created and name not in self.tables:
            raise self.st.refuse(f"table {name} is not created by this dump")

    @staticmethod
    def _unquote(token: Token) -> str:
        return token.text[1:-1].replace("``", "`")

    def _next_in_statement(self, pattern=None) -> Token:
        token = self.st.next(pattern)
        if token is None:
            raise self.st.refuse("the dump ends inside a statement")
        if token.kind == "exec_comment":
            raise self.st.refuse("an executable comment inside a statement", token.line)
        return token

    def _end(self) -> None:
        self._take(self._next_in_statement(), ";")

    def _take(self, token: Token, *texts: str) -> Token:
        if texts and token.text not in texts:
            raise self.st.refuse(f"expected {' or '.join(texts)}, found {token.text[:40]!r}",
                                 token.line)
        self.st.emit(token.text)
        return token


def check(info: DumpInfo) -> None:
    """Reads the whole dump once, refusing anything but our table data; changes nothing."""
    with DumpReader(info.path) as reader:
        _Dump(info, reader, emit=lambda text: None).walk()
    info.engine = NAME


# -- restore ------------------------------------------------------------------------------
# First on the first line (line numbers stay the dump's): a known session, whatever the
# server's defaults.
PROLOGUE = "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'; SET NAMES utf8mb4; "


def restore(settings: Settings, db: Database, info: DumpInfo,
            check_version: Callable[[int | None], None]) -> None:
    token = secrets.token_hex(3)
    new, old = f"_eas_new_{token}_", f"_eas_old_{token}_"
    try:
        _load(settings, info, lambda table: new + table)
        check_version(_schema_version(db, new, info.tables))
        _swap(db, info.tables, new, old)
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            _drop_prefixed(db, new)
        raise
    _drop_prefixed(db, old)


def _load(settings: Settings, info: DumpInfo, name: Callable[[str], str]) -> None:
    cmd = [_tool("mariadb", "mysql"), "--sandbox", "--binary-mode", "--one-database",
           "--batch", "--default-character-set=utf8mb4", "--", settings.db_name]
    with _run(settings, cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) as proc:
        pending: list[str] = [PROLOGUE]
        size = 0

        def emit(text: str) -> None:
            nonlocal size
            pending.append(text)
            size += len(text)
            if size >= CHUNK:
                flush()

        def flush() -> None:
            nonlocal size
            proc.stdin.write("".join(pending).encode())
            pending.clear()
            size = 0

        try:
            with DumpReader(info.path) as reader:
                _Dump(info, reader, emit, name).walk()
            flush()
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the client stopped early: its own message says why
        if proc.wait() != 0:
            raise BackupError(_failure("mysql", proc).replace(name(""), "")
                              + "; nothing was changed")


def _schema_version(db: Database, new: str, tables: list[str]) -> int | None:
    from ...model.schema import TABLE_NAMES

    if not set(tables) & set(TABLE_NAMES):
        return None
    if "eas_schema_version" not in tables:
        return 0
    query = "SELECT MAX(version) FROM `{}eas_schema_version`"  # our own prefix
    return db.read(lambda tx: tx.scalar(query.format(new))) or 0


def _names(db: Database) -> list[str]:
    db.close()  # information_schema as it is now, not as a pooled session last saw it
    return db.read(lambda tx: tx.dialect.table_names(tx))


def _swap(db: Database, tables: list[str], new: str, old: str) -> None:
    present = [n for n in _names(db) if is_ours(n)]
    pairs = [f"`{n}` TO `{old}{n}`" for n in present] + [f"`{new}{n}` TO `{n}`" for n in tables]
    if pairs:
        db.run(lambda tx: tx.execute("RENAME TABLE " + ", ".join(pairs)), attempts=1,
               atomic=False)


def _drop_prefixed(db: Database, prefix: str) -> None:
    names = [n for n in _names(db) if n.startswith(prefix)]
    if not names:
        return

    def unit(tx) -> None:
        tx.execute("SET FOREIGN_KEY_CHECKS = 0")
        tx.execute("DROP TABLE IF EXISTS " + ", ".join(f"`{n}`" for n in names))
        tx.execute("SET FOREIGN_KEY_CHECKS = 1")

    db.run(unit, attempts=1, atomic=False)
