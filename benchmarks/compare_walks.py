"""Walk speed of this tree beside another checkout of the project, interleaved in one run.

    python benchmarks/compare_walks.py --before /path/to/older/checkout [--items 20000]
                                       [--per-page 1000] [--rounds 15]

"No worse than before" is a ratio between two versions, and this machine's noise is larger
than the differences that matter: so each round runs the raw ``requests`` loop and both
versions' typed walks (with and without nested reads), each in a fresh process against the
same loopback server (``bench_pagination.py``'s), and the best of ``--rounds`` is kept.
Make the other checkout with ``git worktree add`` or ``git archive REV | tar -x -C DIR``;
both run with this interpreter, each importing its own ``losant_fluent``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pagination  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 600


def _child(tree: Path, mode: str, url: str, items: int, per_page: int) -> dict[str, float]:
    job = {"mode": mode, "url": url, "items": items, "per_page": per_page, "memory": False,
           "consumer": 0.0}
    done = subprocess.run(
        [sys.executable, str(tree / "benchmarks" / "bench_pagination.py"), "--child",
         json.dumps(job)], capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree} {mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    trees = {"before": options.before.resolve(), "now": HERE}
    runs = [("raw", "now"), ("fluent", "before"), ("fluent", "now"),
            ("fluent-nested", "before"), ("fluent-nested", "now")]
    server, url = bench_pagination._start_server(0.0)
    best: dict[tuple[str, str], float] = {}
    try:
        for _ in range(options.rounds):
            for mode, name in runs:
                got = _child(trees[name], mode, url, options.items, options.per_page)
                best[mode, name] = min(best.get((mode, name), got["seconds"]), got["seconds"])
    finally:
        server.terminate()
        server.join(5)
    raw = best["raw", "now"]
    print(f"Walks of {options.items:,} devices, best of {options.rounds} interleaved rounds; "
          f"before = {trees['before']}")
    print(f"  {'walk':<16}{'before':>10}{'now':>10}   (items/s as a ratio to the raw loop)")
    for mode in ("fluent", "fluent-nested"):
        print(f"  {mode:<16}{raw / best[mode, 'before']:>9.2f}x{raw / best[mode, 'now']:>9.2f}x")


if __name__ == "__main__":
    main()
