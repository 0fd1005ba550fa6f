"""Task types by name, so configs and the loop can say "deduction" instead of importing classes."""

from __future__ import annotations

from typing import TypeVar

from azr.errors import AzrError
from azr.tasks.base import TaskType
from azr.tasks.config import TasksConfig

T = TypeVar("T", bound=type[TaskType])

_TYPES: dict[str, type[TaskType]] = {}


class UnknownTaskTypeError(AzrError):
    """A configuration names a task type that is not registered."""


def register(cls: T) -> T:
    """Class decorator: make a :class:`TaskType` subclass available under its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise AzrError(f"task type {cls.__qualname__} needs a non-empty class attribute 'name'")
    existing = _TYPES.get(name)
    if existing is not None and existing is not cls:
        raise AzrError(f"task type name {name!r} is already used by {existing.__qualname__}")
    _TYPES[name] = cls
    return cls


def task_type_names() -> list[str]:
    """Registered names, in registration order (deduction, abduction, induction first)."""
    return list(_TYPES)


def get_task_type(name: str, config: TasksConfig | None = None) -> TaskType:
    """A fresh instance of the named type, configured by ``config`` (defaults when None)."""
    cls = _TYPES.get(name)
    if cls is None:
        known = ", ".join(_TYPES) or "none"
        raise UnknownTaskTypeError(f"unknown task type {name!r}; known task types: {known}")
    return cls(config)
