"""The sandboxed executor: the only code in azr that starts or touches processes.

``Executor`` and ``ExecutorConfig`` load lazily: the fork-server workers import this
package too, and must not pull pydantic into every sandboxed child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azr.executor.types import ExecResult, LayerStatus, Snippet, SnippetRunner

if TYPE_CHECKING:
    from azr.executor.config import ExecutorConfig
    from azr.executor.pool import Executor

__all__ = ["ExecResult", "Executor", "ExecutorConfig", "LayerStatus", "Snippet", "SnippetRunner"]

_LAZY = {"Executor": "azr.executor.pool", "ExecutorConfig": "azr.executor.config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'azr.executor' has no attribute {name!r}")
