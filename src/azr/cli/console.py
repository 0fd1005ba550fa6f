"""The one rich console every command writes to (stderr, so stdout stays machine-readable)."""

from rich.console import Console

console = Console(stderr=True)
