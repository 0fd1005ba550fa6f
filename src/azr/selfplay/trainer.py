"""A whole run: set-up, seeding, steps, checkpoints, clean stops and exact resumes.

The step itself lives in :mod:`azr.selfplay.loop`; this module owns the life around it.
"""

from __future__ import annotations

import errno
import json
import logging
import random
import signal
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Callable

from azr.buffers import BufferSet
from azr.cluster.ranks import RankGroup, announce_engine
from azr.cluster.session import open_workers
from azr.engine import Engine, EngineConfig
from azr.engine.checkpoint import atomic_checkpoint
from azr.errors import AzrError
from azr.ledger import Ledger
from azr.oversight import PAUSE_EXIT_CODE, STOP_EXIT_CODE, Action, ActionKind, OversightHub, ensure_may_continue
from azr.selfplay.config import RunConfig, load_run_config
from azr.selfplay.loop import SelfPlayLoop, StepOutcome
from azr.engine.types import SamplingParams
from azr.selfplay.metrics_sink import MetricsSink
from azr.selfplay.probes import PROBES_FILE, ProbeSet, build_probe_set, score_probes
from azr.selfplay.records import task_from_dict, task_to_dict
from azr.selfplay.run_dir import MARKER, STATE, RunDir
from azr.tasks.safety import SafetyPolicy

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130


class DiskFullError(AzrError):
    """Writing the run failed for lack of space; nothing half-written was kept, so the run can resume."""


class RunFinishedError(AzrError):
    """A resume of a run that already reached its steps: there is nothing to do unless the total grows."""

    def __init__(self, run_dir: Path, steps_done: int) -> None:
        self.run_dir = run_dir
        self.steps_done = steps_done
        super().__init__(
            f"run already finished {steps_done} steps; to continue, give the new total: "
            f"azr train --resume {run_dir} --steps {next_total(steps_done)}"
        )


def next_total(steps_done: int) -> int:
    """The total to suggest for continuing a run: as many steps again."""
    return 2 * steps_done if steps_done > 0 else 1


_NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# How writers that raise no OSError say it: Rust's io::Error in safetensors and tokenizers
# ("... (os error 28)"), strerror text wrapped in RuntimeError, and SQLite's SQLITE_FULL.
_NO_SPACE_WORDS = ("no space left on device", "disk quota exceeded", "os error 28", "os error 122",
                   "database or disk is full")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` or any exception it was raised from means a full disk or quota, whatever its type."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE_ERRNOS:
            return True
        if any(words in str(current).lower() for words in _NO_SPACE_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class RunSummary:
    run_dir: Path
    first_step: int
    last_step: int
    interrupted: bool
    history: list[dict[str, float]] = field(default_factory=list)
    oversight: Action = Action.CONTINUE

    @property
    def exit_code(self) -> int:
        """0 when the run finished; distinct codes for a Ctrl-C, an oversight pause and a stop."""
        if self.oversight.kind is ActionKind.PAUSE:
            return PAUSE_EXIT_CODE
        if self.oversight.kind is ActionKind.STOP:
            return STOP_EXIT_CODE
        return EXIT_INTERRUPTED if self.interrupted else 0


class StopFlag:
    """SIGINT/SIGTERM ask for a clean stop after the current step; a second SIGINT aborts."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        log.warning("%s received: finishing this step, then saving and exiting (Ctrl-C again to abort)", self.requested)


class Trainer:
    """Owns the engine, executor, buffers and ledger of one run."""

    def __init__(self, config: RunConfig, run: RunDir, resume: bool, engine: Engine | None = None,
                 group: RankGroup | None = None) -> None:
        self.config = config
        self.group = group
        self.run = run
        self.resume = resume
        self._new_engine = engine
        self.stop = StopFlag()
        self.rng = random.Random(config.seed)
        self.buffers = BufferSet({name: config.selfplay.buffer_capacity for name in config.selfplay.task_types})
        self.probes: ProbeSet | None = None

    @classmethod
    def new(cls, config: RunConfig, path: Path | None = None, group: RankGroup | None = None) -> Trainer:
        """Start a run; the model loads before the run directory is made, so a bad model leaves nothing behind."""
        path = path or config.run_dir or RunDir.default_path()
        RunDir.ensure_free(path)
        engine = load_engine(config.engine, group, None)
        return cls(config, RunDir.create(path, config), resume=False, engine=engine, group=group)

    @classmethod
    def resume_from(cls, path: Path, steps: int | None = None, group: RankGroup | None = None) -> Trainer:
        """Continue a run, to ``steps`` in all when given; a run that oversight paused needs ``azr resume --ack`` first.

        A run whose ledger already holds its last step raises :class:`RunFinishedError` here,
        before any model loads. A new total is written to ``config.yaml`` once the run is
        resumed, so a later plain ``--resume`` keeps it.
        """
        run = RunDir.open(path)
        ensure_may_continue(run.path)
        config = load_run_config(path=run.config_path, overrides=None if steps is None else [f"steps={steps}"])
        with Ledger.open(run.path, readonly=True) as ledger:
            done = ledger.last_complete_step() or 0
        if done >= config.steps:
            raise RunFinishedError(run.path, done)
        return cls(config, run, resume=True, group=group)

    def train(self, on_step: Callable[[StepOutcome], None] | None = None) -> RunSummary:
        self.stop.install()
        try:
            with ExitStack() as stack:
                ledger = Ledger.open(self.run.path)
                stack.callback(ledger.close)
                engine, start = self._engine_and_start(ledger)
                executor = stack.enter_context(open_workers(self.config.executor, self.config.cluster, engine))
                hub = OversightHub(self.config.oversight, self.run.path,
                                   safety_policy=SafetyPolicy(self.config.tasks.safety))
                loop = SelfPlayLoop(
                    self.config.selfplay, engine, executor, self.buffers, ledger, self.rng, hub, self.config.tasks
                )
                sink = stack.enter_context(MetricsSink(self.run.metrics_path, self.run.tensorboard_dir))
                if not self.resume:
                    self.run.mark_valid()
                    ledger.append("run_start", {"config": self.config.model_dump(mode="json")})
                    self.probes = self._new_probes(loop, engine, ledger)
                    added = loop.seed()
                    log.info("seeding added %d tasks: %s", added, loop.buffer_sizes())
                    self._checkpoint(engine, ledger, 0)
                    if self.config.eval.every_n_steps:
                        sink.write(0, self._evaluate(engine, loop, ledger, 0))
                else:
                    self.probes = self._saved_probes()
                summary = self._steps(loop, engine, ledger, sink, start, on_step)
                hub.write_scorecard(summary.last_step, final=True)
                return summary
        except Exception as exc:
            if is_disk_full(exc):
                raise DiskFullError(self._disk_full_message()) from exc
            raise
        finally:
            self.stop.restore()

    def _steps(
        self,
        loop: SelfPlayLoop,
        engine: Engine,
        ledger: Ledger,
        sink: MetricsSink,
        start: int,
        on_step: Callable[[StepOutcome], None] | None,
    ) -> RunSummary:
        summary = RunSummary(self.run.path, first_step=start, last_step=start - 1, interrupted=False)
        last_saved = start - 1
        for step in range(start, self.config.steps + 1):
            outcome = loop.step(step)
            if self.config.eval.every_n_steps and step % self.config.eval.every_n_steps == 0:
                outcome.metrics.update(self._evaluate(engine, loop, ledger, step))
            summary.last_step = step
            summary.history.append(outcome.metrics)
            sink.write(step, outcome.metrics)
            loop.hub.write_scorecard(step)
            if on_step is not None:
                on_step(outcome)
            halt = outcome.action.kind in (ActionKind.PAUSE, ActionKind.STOP)
            if step % self.config.checkpoint_every == 0 or step == self.config.steps or self.stop.requested or halt:
                self._checkpoint(engine, ledger, step)
                last_saved = step
            if halt:
                log.warning("oversight %s the run at step %d: %s", outcome.action.kind.value, step, outcome.action.reason)
                summary.oversight = outcome.action
                break
            if self.stop.requested:
                summary.interrupted = True
                break
            if outcome.action.kind is ActionKind.SLOW:
                time.sleep(outcome.action.seconds)
        if summary.last_step > last_saved:
            self._checkpoint(engine, ledger, summary.last_step)
        return summary

    def _evaluate(self, engine: Engine, loop: SelfPlayLoop, ledger: Ledger, step: int) -> dict[str, float]:
        """Held-out scores: self-play probes (a ``probe_eval`` record) and CRUXEval (``eval`` rows)."""
        from azr.eval.data import resolve_data_dir
        from azr.eval.in_training import evaluate_in_training

        metrics: dict[str, float] = {}
        if self.probes is not None:
            scores, payload = score_probes(loop, self.probes)
            ledger.append("probe_eval", payload, step=step)
            metrics.update(scores)
        if self.config.eval.limit:
            data_dir = resolve_data_dir(self.config.eval.data_dir)
            scores = evaluate_in_training(engine, loop.runner, data_dir, self.config.eval.limit, step, ledger)
            metrics.update({f"eval/{name}": score for name, score in scores.items()})
        return metrics

    def _new_probes(self, loop: SelfPlayLoop, engine: Engine, ledger: Ledger) -> ProbeSet | None:
        """The run's held-out probes, fixed before seeding: read from ``eval.probes_file`` or built by the base model."""
        settings = self.config.eval
        if not settings.every_n_steps or not (settings.probe_tasks_per_type or settings.probes_file):
            return None
        if settings.probes_file is not None:
            probes = ProbeSet.load(settings.probes_file)
        else:
            proposer = self.config.selfplay.proposer
            params = SamplingParams(temperature=proposer.temperature, top_p=proposer.top_p,
                                    max_new_tokens=proposer.max_new_tokens, stop=tuple(proposer.stop))
            probes = build_probe_set(engine, loop.runner, loop.task_types, settings.probe_tasks_per_type,
                                     settings.probe_seed, self.config.selfplay.references, params,
                                     settings.probe_rounds)
        probes.save(self.run.path / PROBES_FILE)
        ledger.append("probe_set", probes.ledger_payload())
        log.info("probe set %s: %s", probes.digest()[:12], probes.counts())
        return probes

    def _saved_probes(self) -> ProbeSet | None:
        path = self.run.path / PROBES_FILE
        return ProbeSet.load(path) if path.is_file() else None

    def _disk_full_message(self) -> str:
        if not (self.run.path / MARKER).is_file():
            again = f"start it again with the same azr train command and --run-dir {self.run.path}"
        else:
            saved = self.run.checkpoints()
            where = f"checkpoint step {saved[-1][0]}" if saved else "the start (no checkpoint was completed yet)"
            again = f"continue with: azr train --resume {self.run.path} (it restarts from {where})"
        return (f"no space left on device while writing the run in {self.run.path}; no half-written checkpoint "
                f"was kept. Free some space, then {again}")

    def _engine_and_start(self, ledger: Ledger) -> tuple[Engine, int]:
        """A new run starts at step 1 after seeding; a resume starts after its newest intact checkpoint.

        A run whose first checkpoint was never completed (its disk filled during set-up) has
        nothing to resume, so it starts over from its model: ``self.resume`` turns False and
        ``train`` seeds again.
        """
        if not self.resume:
            engine, self._new_engine = self._new_engine, None
            return (engine if engine is not None else load_engine(self.config.engine, self.group, None)), 1
        latest = self.run.latest_checkpoint()
        if latest is None:
            recorded = ledger.last_complete_step()
            if recorded is not None:
                raise AzrError(
                    f"{self.run.path} has no intact checkpoint to resume from, but steps up to {recorded} ran; "
                    "start a new run instead"
                )
            log.warning("%s has no complete checkpoint and no finished step: its set-up starts over", self.run.path)
            self.resume = False
            return load_engine(self.config.engine, self.group, None), 1
        step, path = latest
        engine = load_engine(self.config.engine, self.group, path)
        state = json.loads((path / STATE).read_text())
        self.buffers.load_state_dict(state["buffers"], task_from_dict)
        self.rng.setstate(_rng_state_from_json(state["rng"]))
        recorded = ledger.last_complete_step()
        if recorded is not None and recorded > step:
            # The ledger is append-only, so the lost steps keep their records and numbers; the
            # model restarts from the checkpoint and the run continues after the last recorded step.
            ledger.append("rewind", {"checkpoint_step": step, "discarded_steps": list(range(step + 1, recorded + 1))})
            log.warning("steps %d..%d ran after the last checkpoint; their updates are lost", step + 1, recorded)
        self.run.write_config(self.config)
        ledger.append("resume", {"checkpoint_step": step, "steps": self.config.steps})
        return engine, max(step, recorded or 0) + 1

    def _checkpoint(self, engine: Engine, ledger: Ledger, step: int) -> None:
        """Written atomically: a failure at any point leaves the older checkpoints as they were."""
        path = self.run.checkpoint_dir(step)
        state = {"step": step, "buffers": self.buffers.state_dict(task_to_dict), "rng": _rng_state_to_json(self.rng)}
        with atomic_checkpoint(path) as staging:
            engine.save_checkpoint(staging)
            (staging / STATE).write_text(json.dumps(state))
        self.run.prune_checkpoints(self.config.keep_checkpoints)
        ledger.append("checkpoint", {"step": step, "path": str(path)}, step=step)
        log.info("checkpoint saved: %s", path)


def _rng_state_to_json(rng: random.Random) -> list:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _rng_state_from_json(data: list) -> tuple:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)


def load_engine(config: EngineConfig, group: RankGroup | None, checkpoint: Path | None) -> Engine:
    """The run's engine from ``checkpoint``, or new from the config; with trainer ranks, every rank builds it."""
    if group is not None:
        announce_engine(group, checkpoint)
    if checkpoint is None:
        return Engine.from_config(config, group)
    return Engine.from_checkpoint(checkpoint, config, group)
