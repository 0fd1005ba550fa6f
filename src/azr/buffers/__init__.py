"""azr.buffers: per task type pools of valid tasks with provenance, and reference sampling."""

from azr.buffers.buffer import BufferEntry, TaskBuffer, TaskBufferError, default_encode
from azr.buffers.bufferset import BufferSet

__all__ = ["BufferEntry", "BufferSet", "TaskBuffer", "TaskBufferError", "default_encode"]
