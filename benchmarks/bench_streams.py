"""Parsing Server-Sent Events: losant-fluent's parser against a ``bytes.split`` baseline.

    python benchmarks/bench_streams.py [--sizes 1,4,8] [--chunk 65536] [--rounds 3] [--old]

One event of each size (MiB of ``data``) is fed in ``--chunk``-byte reads, as a socket
gives it. Printed per size: the seconds of the baseline (the whole stream joined, then
``split(b"\\n")`` — the least work any parser can do), of losant-fluent's parser
(``losant_fluent._sse.EventParser``), their ratio, and losant-fluent's milliseconds per MiB,
which a linear parser keeps flat as the size grows. ``--old`` adds the text parser it
replaced (kept below, as it was: it re-scanned the unfinished line on every read), whose
time grows with the square of the size (about 16 s for 8 MiB on a slow machine).
"""

from __future__ import annotations

import argparse
import codecs
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from losant_fluent._sse import EventParser  # noqa: E402

MiB = 1024 * 1024


class OldParser:
    """The parser before issue 20 (its feed, unchanged in substance): quadratic in a line."""

    _LINE_END = re.compile(r"\r\n|\r|\n")

    def __init__(self) -> None:
        self._text = ""
        self._data: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, chunk: bytes) -> list[str]:
        buffer = self._text + self._decoder.decode(chunk)
        events: list[str] = []
        position = 0
        for match in self._LINE_END.finditer(buffer):
            line = buffer[position:match.start()]
            position = match.end()
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                self._data = []
            elif line.startswith("data:"):
                self._data.append(line[5:].lstrip(" "))
        self._text = buffer[position:]
        return events


def _chunks(size: int, chunk: int) -> list[bytes]:
    payload = b"data: " + b"x" * size + b"\n\n"
    return [payload[at:at + chunk] for at in range(0, len(payload), chunk)]


def _baseline(chunks: list[bytes]) -> int:
    return len(b"".join(chunks).split(b"\n"))


def _fluent(chunks: list[bytes]) -> int:
    parser = EventParser(max_event_size=1 << 40)
    return sum(len(parser.feed(c)) for c in chunks)


def _old(chunks: list[bytes]) -> int:
    parser = OldParser()
    return sum(len(parser.feed(c)) for c in chunks)


def _best(run: Callable[[list[bytes]], int], chunks: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(chunks)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,8", help="event sizes in MiB (may be 0.01)")
    parser.add_argument("--chunk", type=int, default=65536)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old", action="store_true", help="also time the old text parser")
    args = parser.parse_args()
    header = f"{'event':>10} {'baseline s':>11} {'fluent s':>9} {'ratio':>7} {'ms/MiB':>7}"
    if args.old:
        header += f" {'old s':>9} {'old ratio':>10}"
    print(header)
    for text in args.sizes.split(","):
        size = int(float(text) * MiB)
        chunks = _chunks(size, args.chunk)
        base = _best(_baseline, chunks, args.rounds)
        fluent = _best(_fluent, chunks, args.rounds)
        per_mib = fluent * 1000 / (size / MiB)  # flat when linear
        line = (f"{size / MiB:>6.2f} MiB {base:>11.4f} {fluent:>9.4f} {fluent / base:>6.1f}x "
                f"{per_mib:>7.2f}")
        if args.old:
            old = _best(_old, chunks, 1)
            line += f" {old:>9.3f} {old / base:>9.0f}x"
        print(line)


if __name__ == "__main__":
    main()
