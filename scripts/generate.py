#!/usr/bin/env python3
"""Regenerate everything generated in losant-fluent, or check that it is up to date.

    python scripts/generate.py            # rewrite the generated files
    python scripts/generate.py --check    # exit 1, naming the stale files, if any differ

Inputs come from ``reference/`` (override with ``--reference DIR``), the project's copy of
the API facts that ``scripts/refresh_reference.py`` refreshes from upstream.
Outputs: ``losant_fluent/_catalog.json`` (the endpoint catalog), ``losant_fluent/_resources.py``
(fluent node classes), ``losant_fluent/_async_resources.py`` (the same for ``AsyncAPI``),
``losant_fluent/_params.py`` (keyword parameter types), ``losant_fluent/testing/
_reference.json`` (the emulator's schemas and examples, see ``gen_emulator_reference.py``) and
``losant_fluent/models/_generated/`` (pydantic models, see ``gen_models.py``).
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen_catalog  # noqa: E402
import gen_emulator_reference  # noqa: E402
import gen_resources  # noqa: E402

PACKAGE = ROOT / "losant_fluent"
DEFAULT_REFERENCE = ROOT / "reference"


def write_all(reference: Path, package: Path) -> None:
    """Write every generated file under ``package`` (a directory laid out like the package)."""
    catalog = gen_catalog.build_catalog(reference)
    gen_resources.check_names(catalog)
    (package / "_catalog.json").write_text(gen_catalog.render_catalog(catalog))
    (package / "_resources.py").write_text(
        gen_resources.render_resources(catalog, catalog["resources"], reference)
    )
    (package / "_async_resources.py").write_text(
        gen_resources.render_async_resources(catalog, catalog["resources"], reference)
    )
    (package / "_params.py").write_text(gen_resources.render_params(catalog))
    (package / "testing").mkdir(exist_ok=True)
    (package / "testing" / "_reference.json").write_text(
        gen_emulator_reference.render(reference), encoding="utf-8"
    )
    import gen_models  # needs datamodel-code-generator (the `generate` extra)

    gen_models.generate(reference / "schemas", package / "models")


def _stale(expected: Path, actual: Path) -> list[str]:
    stale: list[str] = []
    for path in sorted(expected.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(expected)
        other = actual / rel
        if not other.exists() or not filecmp.cmp(path, other, shallow=False):
            stale.append(str(rel))
    generated = actual / "models" / "_generated"
    if generated.exists():
        for path in sorted(generated.rglob("*.py")):
            rel = path.relative_to(actual)
            if not (expected / rel).exists():
                stale.append(f"{rel} (no longer generated)")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args(argv)
    if not args.check:
        write_all(args.reference, PACKAGE)
        print(f"regenerated into {PACKAGE}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "models").mkdir()
        write_all(args.reference, out)
        stale = _stale(out, PACKAGE)
    if stale:
        print("stale generated files (run: python scripts/generate.py):")
        print("\n".join(f"  {s}" for s in stale))
        return 1
    print("generated files are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
