"""Reading a dump as SQL tokens, block by block: memory is bounded by the longest statement
allowed, never by the size of the dump (a few MB of gzip can expand to gigabytes).

Each engine's strategy supplies the token pattern (its quoting and comment rules) and the
grammar of the statements it accepts; this module only cuts the text and keeps count of
lines, so every refusal can name the line it is about.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, NamedTuple

from .dumpfile import DumpReader, fail

# Longest statement a dump may hold, in characters: twice a database server's usual packet
# limit (16 MiB), which a longer statement could not pass anyway.
MAX_STATEMENT = 32 * 2**20
BLOCK = 1 << 20
# A token that ends this close to the end of the text read so far might go on (a doubled
# quote, an exponent): read on before deciding.
LOOKAHEAD = 8
COMMENTS = frozenset({"line_comment", "block_comment"})
UNTERMINATED = {"open_string": "string", "open_ident": "quoted identifier",
                "open_comment": "comment"}


class Token(NamedTuple):
    kind: str  # the name of the pattern's group that matched
    text: str
    line: int  # where the token starts (1-based)


class Scanner:
    """Tokens of a dump; ``pattern`` must match at every position (end it with a catch-all
    group named ``bad``) and compile with re.DOTALL."""

    def __init__(self, reader: DumpReader, limit: int = MAX_STATEMENT):
        self.reader = reader
        self.path: Path = reader.path
        self.limit = limit
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def next(self, pattern: re.Pattern) -> Token | None:
        while True:
            if self.pos >= len(self.buf):
                if self.eof:
                    return None
                self._fill()
                continue
            match = pattern.match(self.buf, self.pos)
            if not self.eof and match.end() + LOOKAHEAD > len(self.buf):
                self._fill()
                continue
            text = match.group()
            token = Token(match.lastgroup, text, self.line)
            self.line += text.count("\n")
            self.pos = match.end()
            return token

    def _fill(self) -> None:
        pending = len(self.buf) - self.pos
        if pending > self.limit:
            raise fail(self.path, self.line,
                       f"a statement longer than {self.limit // 2**20} MiB")
        # Grow by doubling, so a long token is scanned again only log(n) times, but never
        # read much past the limit.
        chunk = self.reader.read(max(BLOCK, min(pending, self.limit + LOOKAHEAD - pending)))
        if not chunk:
            self.eof = True
        elif "\0" in chunk:
            head = self.buf[self.pos:] + chunk[:chunk.index("\0")]
            raise fail(self.path, self.line + head.count("\n"), "a NUL character")
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0


class Statements:
    """The significant tokens of a dump, with what lies between them passed on as only its
    line breaks (or one space): whatever is sent on is exactly the tokens that were checked,
    on the lines they came from, so the server's "at line N" is the dump's line N."""

    def __init__(self, scanner: Scanner, pattern: re.Pattern, emit: Callable[[str], None]):
        self.scanner = scanner
        self.path = scanner.path
        self.pattern = pattern
        self._emit = emit
        self.start = 0  # line where the current statement starts
        self.size = 0  # characters of the current statement so far

    def begin(self, token: Token) -> None:
        self.start, self.size = token.line, 0

    def emit(self, text: str) -> None:
        self.size += len(text)
        if self.size > self.scanner.limit:
            raise self.refuse(f"a statement longer than {self.scanner.limit // 2**20} MiB")
        self._emit(text)

    def refuse(self, reason: str, line: int | None = None):
        return fail(self.path, line or self.start, reason)

    def next(self, pattern: re.Pattern | None = None, comments: bool = False) -> Token | None:
        """The next token that is not whitespace (nor a comment, unless ``comments``)."""
        while True:
            token = self.scanner.next(pattern or self.pattern)
            if token is None:
                return None
            if token.kind == "ws":
                self._emit(token.text)
                continue
            if token.kind in COMMENTS:
                self._emit("\n" * token.text.count("\n") or " ")
                if comments:
                    return token
                continue
            if token.kind in UNTERMINATED:
                raise fail(self.path, token.line, f"unterminated {UNTERMINATED[token.kind]}")
            if token.kind == "bad":
                raise fail(self.path, token.line, f"unexpected character {token.text!r}")
            return token

    def expect(self, what: str, *words: str, kinds: tuple[str, ...] = ()) -> Token:
        """The next token, which must be one of ``words`` (any case) or of ``kinds``."""
        token = self.next()
        if token is None:
            raise self.refuse(f"the dump ends inside a statement (expected {what})")
        if token.kind in kinds or (token.kind == "word" and token.text.upper() in words):
            return token
        raise fail(self.path, token.line, f"expected {what}, found {token.text[:40]!r}")
