"""The scratch directory's total size is capped, not only each file in it."""

from __future__ import annotations

import dataclasses
import errno
import os

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor import layers as layer_probe

pytestmark = pytest.mark.timeout(120)

# Eight 1 MiB files: each is far under max_file_bytes, together they are past the cap.
_FILL = ("import os\nwritten, error = 0, None\ntry:\n    for i in range(8):\n"
         "        with open(f'f{i}', 'wb') as f:\n            written += f.write(bytes(1 << 20))\n"
         "            f.flush()\nexcept OSError as exc:\n    error = exc.errno\n")
_CONFIG = ExecutorConfig(workers=1, seed_slots=1, max_scratch_bytes=2 << 20, max_file_bytes=4 << 20)


@pytest.mark.skipif(os.geteuid() != 0, reason="the scratch tmpfs needs root")
def test_a_program_cannot_fill_more_than_its_scratch_tmpfs():
    with Executor(_CONFIG) as executor:
        result = executor.run(Snippet(code=_FILL, call="written >> 20, error", timeout_s=10))
        assert result.ok, result
        written, error = eval(result.value_repr)
        assert written <= 2 and error == errno.ENOSPC, result
        assert executor.run(Snippet(code=_FILL.replace("range(8)", "range(1)"), call="written >> 20")).value_repr == "1"


@pytest.fixture
def as_non_root(monkeypatch):
    """Stub of the layer probe: reports the uid layer as missing, as on a host where the
    executor is not root, so workers keep no tmpfs and only the check after the run is left."""
    real = layer_probe.probe

    def probe(config):
        return [dataclasses.replace(layer, active=False) if layer.name == "uid" else layer for layer in real(config)]

    monkeypatch.setattr(layer_probe, "probe", probe)


def test_without_a_tmpfs_a_run_past_the_cap_fails_and_is_cleaned_up(as_non_root):
    with Executor(_CONFIG) as executor:
        result = executor.run(Snippet(code=_FILL, call="written >> 20, error", timeout_s=10))
        assert not result.ok and result.killed_by_limit == "scratch", result
        after = executor.run(Snippet(code="import os", call="os.listdir('.')"))
        assert after.value_repr == "[]"
