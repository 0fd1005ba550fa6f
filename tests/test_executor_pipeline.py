"""A program cannot read the request queued behind it on the same worker."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet

pytestmark = pytest.mark.timeout(120)

# Looks everywhere a buffered request reader would keep the next frame: the buffer of every
# io.BufferedReader (peek() returns it without a system call) and every str or bytes that a
# tracked container refers to.
_SCAN = ("import gc, io\n"
         "marker = {reversed!r}[::-1]\n"
         "def scan():\n"
         "    hits = 0\n"
         "    for obj in gc.get_objects():\n"
         "        if isinstance(obj, io.BufferedReader):\n"
         "            try:\n"
         "                hits += marker.encode() in obj.peek()\n"
         "            except (OSError, ValueError):\n"
         "                pass\n"
         "        for ref in gc.get_referents(obj):\n"
         "            if ref is not marker and isinstance(ref, (str, bytes)):\n"
         "                hits += (marker if isinstance(ref, str) else marker.encode()) in ref\n"
         "    return hits\n")


def _replies(fd: int, count: int) -> list[dict]:
    data = b""
    while data.count(b"\n") < count:
        chunk = os.read(fd, 65536)
        assert chunk, "the worker died"
        data += chunk
    return [json.loads(line) for line in data.splitlines()[:count]]


def test_a_pipelined_request_is_not_in_the_memory_of_the_program_before_it():
    marker = f"azr-next-request-{uuid.uuid4().hex}"
    with Executor(ExecutorConfig(workers=1, seed_slots=1)) as executor:
        [worker] = executor._workers
        first = executor._job(0, Snippet(code=_SCAN.format(reversed=marker[::-1]), call="scan()"))
        second = executor._job(1, Snippet(code=f"secret = {marker!r}", call="len(secret)"))
        assert worker.proc.stdin is not None
        worker.proc.stdin.write(first.frame + second.frame)  # both queued before the worker reads
        worker.proc.stdin.flush()
        scanned, ran = _replies(worker.fd, 2)
        assert scanned["ok"] and ran["ok"], (scanned, ran)
        assert scanned["value_repr"] == "0"
        assert executor.run(Snippet(code="", call="1")).value_repr == "1"
