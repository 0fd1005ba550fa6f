"""The ``azr`` command starts without loading the heavy libraries only some subcommands need."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "sklearn", "plotly", "sentence_transformers", "math_verify", "evalplus")


def test_cli_import_leaves_heavy_libraries_unloaded() -> None:
    probe = f"import json, sys; import azr.cli.main; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
