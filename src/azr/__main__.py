"""``python -m azr``, the same as the ``azr`` command (``torchrun -m azr train`` launches trainer ranks)."""

from azr.cli.main import run

run()
