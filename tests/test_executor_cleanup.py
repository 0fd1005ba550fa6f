"""What a program leaves in its scratch directory never reaches the caller or the next program."""

from __future__ import annotations

import os

import pytest

from azr.executor import Executor, ExecutorConfig, Snippet
from azr.executor.scratch import remove_tree

pytestmark = pytest.mark.timeout(120)

_LITTER = (
    "import os\n"
    "os.mkdir('locked')\n"
    "open('locked/secret', 'w').write('x')\n"
    "os.chmod('locked/secret', 0)\n"
    "os.chmod('locked', 0)\n"
    "os.mkdir('readonly')\n"
    "open('readonly/f', 'w').write('x')\n"
    "os.chmod('readonly', 0o500)\n"
    "os.symlink('/etc', 'etc-link')\n"
    "for _ in range({depth}):\n"
    "    os.mkdir('d')\n"
    "    os.chdir('d')\n"
    "open('bottom', 'w').write('x')\n"
    "os.chmod('.', 0)\n"
)


def test_a_deep_unremovable_tree_costs_no_result_and_no_later_batch(tmp_path):
    executor = Executor(ExecutorConfig(workers=1, seed_slots=1))
    roots = [w.scratch_root for w in executor._workers]
    try:
        results = executor.run_batch([Snippet(code=_LITTER.format(depth=5000), call="'built'", timeout_s=20),
                                      Snippet(code="import os", call="sorted(os.listdir('.'))")])
        assert results[0].ok and results[0].value_repr == "'built'", results[0]
        assert results[1].ok and results[1].value_repr == "[]", results[1]
        assert executor.run(Snippet(code=_LITTER.format(depth=3), call="1")).ok
        roots += [w.scratch_root for w in executor._workers]
    finally:
        executor.close()
    assert not any(os.path.lexists(root) for root in roots)


def test_remove_tree_takes_a_chain_longer_than_path_max_as_root(tmp_path):
    """The pool's root-side clean-up of what a worker left (e.g. one killed mid-clean)."""
    top = tmp_path / "box"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("dd", dir_fd=fd)
        inner = os.open("dd", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.chmod(fd, 0)
    os.close(fd)
    assert remove_tree(str(top)) == []
    assert not top.exists()
