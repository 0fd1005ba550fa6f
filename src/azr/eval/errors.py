"""Errors of the evaluation layer, each telling the user what to do next."""

from __future__ import annotations

from azr.errors import AzrError


class EvalError(AzrError):
    """An evaluation cannot run as asked (unknown benchmark, bad option, unreadable result)."""


class MissingDataError(EvalError):
    """A benchmark's records were found neither in the data directory nor on the hub."""
