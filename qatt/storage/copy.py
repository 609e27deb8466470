"""PostgreSQL bulk load: COPY in text format, streamed from a second thread while the caller reads.

One COPY statement carries the whole load, so the server stores and indexes rows at the same
time as the caller parses the next ones (two processes, two cores), instead of the two waiting
for each other batch by batch. psycopg2 releases the GIL while it sends and while it waits for
the server, so the feeding thread costs the caller almost nothing.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, List, Optional, Sequence

# COPY's text format: a tab between values, a newline after each row, \N for NULL, and
# backslash escapes for the four characters that would otherwise be read as structure.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
# Chunks waiting to be sent; each is one batch (about 40 KB for 200 rows), so memory stays bounded.
QUEUE_CHUNKS = 4
_END = ""  # what read() returns to end the COPY


class _Abort(Exception):
    """Raised inside read(): psycopg2 then fails the COPY, and the transaction rolls back."""


def copy_text(rows: Sequence[tuple], text_columns: int, nullable: Sequence[int] = ()) -> str:
    """`rows` as COPY text. Each row is (an int, then `text_columns` values that are str, or None
    at the `nullable` positions).

    The fast path joins everything and then proves by counting that no value held a tab, a
    newline, a carriage return or a backslash (each would add to a count); ~8x faster than the
    csv module. Only a batch where some value did is escaped value by value."""
    if not rows:
        return ""
    columns: List[Any] = list(zip(*rows))
    columns[0] = list(map(str, columns[0]))
    nulls = 0
    for index in nullable:
        column = columns[index]
        if None in column:
            nulls += column.count(None)
            columns[index] = [NULL if value is None else value for value in column]
    text = "\n".join(map("\t".join, zip(*columns))) + "\n"
    count = len(rows)
    if (text.count("\t") == count * text_columns and text.count("\n") == count
            and text.count("\\") == nulls and "\r" not in text):
        return text
    return "".join("\t".join([str(row[0])] + [NULL if value is None else value.translate(_ESCAPES)
                                              for value in row[1:]]) + "\n" for row in rows)


class _Feed:
    """The file-like object cursor.copy_expert reads from: chunks handed over by another thread."""

    def __init__(self) -> None:
        self.chunks: "queue.Queue[Any]" = queue.Queue(maxsize=QUEUE_CHUNKS)

    def read(self, _size: int = -1) -> str:
        chunk = self.chunks.get()
        if chunk is _Abort:
            raise _Abort("the load was stopped")
        return chunk

    readline = read


class CopyStream:
    """COPY `sql` (FROM STDIN, text format) fed with write(text) from the calling thread.

    Use as a context manager: leaving normally ends the COPY and waits for the server (raising
    its error, if any); leaving with an exception fails the COPY so the transaction can roll back."""

    def __init__(self, db: Any, sql: str) -> None:
        self.sql = sql
        self.feed = _Feed()
        self.error: Optional[BaseException] = None
        self.cursor = db.cursor()
        self.thread = threading.Thread(target=self._run, name="qatt-copy", daemon=True)

    def _run(self) -> None:
        try:
            self.cursor.copy_expert(self.sql, self.feed)
        except BaseException as exc:  # handed to the calling thread, which raises it
            self.error = exc

    def __enter__(self) -> "CopyStream":
        self.thread.start()
        return self

    def _hand_over(self, chunk: Any) -> None:
        """Queue a chunk; if the COPY has already failed, raise its error instead of waiting forever."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.feed.chunks.put(chunk, timeout=0.2)
                return
            except queue.Full:
                if not self.thread.is_alive():
                    raise self.error or RuntimeError("the COPY thread ended early") from None

    def write(self, text: str) -> None:
        if text:
            self._hand_over(text)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self._hand_over(_END)
            self.thread.join()
            if self.error is not None:
                raise self.error
            return
        if self.thread.is_alive():
            try:
                self._hand_over(_Abort)
            except BaseException:  # noqa: BLE001 - the COPY failed anyway; the caller's error matters
                pass
            self.thread.join()
        # The COPY's own error (if any) is a consequence of `exc`, which propagates.
