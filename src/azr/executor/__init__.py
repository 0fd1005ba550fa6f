"""The sandboxed executor: the only code in azr that starts or touches processes."""

from azr.executor.types import ExecResult, Snippet, SnippetRunner

__all__ = ["ExecResult", "Snippet", "SnippetRunner"]
