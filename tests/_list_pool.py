"""A reference pool over a fixed list of tasks, for proposer-prompt tests (stands in for the task buffers)."""

from __future__ import annotations


class ListPool:
    def __init__(self, tasks):
        self.tasks = tasks

    def sample(self, task_types, k, rng):
        matching = [t for t in self.tasks if t.task_type in task_types]
        return rng.sample(matching, min(k, len(matching)))
