"""Tasks: triplets, the task types, their prompts, answer parsing and checking.

Pure Python: nothing here starts a process or loads a model; programs run only through a
:class:`azr.executor.types.SnippetRunner` handed in by the caller. Importing the package
registers the built-in task types.
"""

from azr.tasks import deduction, abduction, induction  # noqa: F401, I001  (registers the types in this order)
