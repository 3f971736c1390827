"""The daemon's lifecycle around the pipeline: start, tell systemd, serve control requests, reload, stop.

    load config -> load models -> open speaker and mic -> control socket -> READY=1 -> run the pipeline
    SIGHUP  -> RELOADING=1, validate the new config; keep the old one if it is invalid; READY=1
    SIGTERM -> STOPPING=1, cut the reply, drain, exit 0
    watchdog: WATCHDOG=1 only while capture delivers audio and no turn is wedged
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from assistant.app.build import (
    build_capture,
    build_satellite,
    build_sink,
    build_source,
    build_stages,
    kept_parts,
    warm_up,
)
from assistant.app.checks import deep_check
from assistant.audio.echo_gate import EchoGate
from assistant.config.schema import Config, ConfigError, load
from assistant.events import TurnReport
from assistant.service import logs
from assistant.service.control import ControlError, ControlServer
from assistant.service.history import History, HistoryError, Recorder
from assistant.service.logs import log_turn
from assistant.service.reloads import Attempt, Reloads
from assistant.service.room import RoomMemory, room_key
from assistant.service.sdnotify import Notifier
from assistant.turn.pipeline import Pipeline
from assistant.turn.stages import Stages

if TYPE_CHECKING:
    from assistant.remote.esphome.satellite import EsphomeSatellite

log = logging.getLogger("assistant.app.daemon")

CAPTURE_STALL_S = 15.0  # no audio (nor a reopen attempt) for this long: the capture thread is stuck
TURN_WEDGED_S = 300.0  # one turn busy for this long: a stage hangs; let systemd restart us
SWAP_WAIT_S = 10.0  # a reload answers once the new stages are in use, or after this long (a long turn)


@dataclass(frozen=True)
class Room:
    """Where what one echo gate learns of the room is kept."""

    memory: RoomMemory
    gate: EchoGate


class Daemon:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.notifier = Notifier.from_env(unset=True)  # children (exec commands) must not notify as us
        self.config, self.config_path = load(args.config)
        self.pipeline: Pipeline | None = None
        self.recorder: Recorder | None = None  # the turn history, None when off or unusable
        self.room: Room | None = None  # the echo gate's learnt room, over restarts
        self.control: ControlServer | None = None
        self.satellite: EsphomeSatellite | None = None  # Home Assistant's voice satellite (ESPHome API)
        self._stop = threading.Event()
        self.reloads = Reloads(self.reload, self.config.service.reload_timeout_s,
                               on_start=lambda: self.notifier.reloading("reloading configuration"),
                               on_end=lambda: self.notifier.ready(self.status_line()))
        self._last_turn_ms: float | None = None

    # ---- start -----------------------------------------------------------------------------------

    def build(self) -> Pipeline:
        config = self.config
        log.info("config: %s", self.config_path or "built-in defaults")
        # Models first (slow), then the devices: the mic opens only when we can answer right away.
        self.notifier.status("loading models")
        sink = build_sink(config)
        stages = build_stages(config, sink, config_path=self.config_path, speak=self._announce)
        capture = build_capture(config, build_source(config))
        pipeline = Pipeline(capture, stages, on_turn=self._on_turn)
        self.room = self._room_for(config, stages)
        self.notifier.status("loading the language model")
        warm_up(pipeline)  # the LLM loads now, not on the first question
        self.pipeline = pipeline
        if config.service.history.enabled:
            try:
                self.recorder = Recorder(History.from_config(config.service.history))
            except HistoryError as exc:  # losing history must not cost the user their assistant
                log.warning("turn history disabled: %s", exc)
        if config.service.control.enabled:  # a ControlError (socket path taken, say) is the user's to fix
            self.control = ControlServer.from_config(config.service.control, DaemonControl(self)).start()
            log.info("control socket: %s", self.control.path)
        self.satellite = build_satellite(config, pipeline)  # a SatelliteError (port taken) is the user's to fix
        return pipeline

    def run(self) -> int:
        pipeline = self.build()
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, lambda signum, frame: self.reloads.signal())
        threading.Thread(target=self.reloads.run, args=(self._stop,), name="reload", daemon=True).start()
        threading.Thread(target=self._watchdog, name="watchdog", daemon=True).start()
        log.info("listening on %s, replying through %s", pipeline.capture.source.name, pipeline.stages.sink.name)
        self.notifier.ready("listening")
        try:
            pipeline.run()
        finally:
            self.notifier.stopping("stopping")
            self._shutdown()
        if not self._stop.is_set():
            log.warning("audio source ended: %s", pipeline.capture.source.name)
        return 0

    def _shutdown(self) -> None:
        assert self.pipeline is not None
        if self.control is not None:
            self.control.stop()
        if self.satellite is not None:
            self.satellite.stop()
        self.pipeline.close()
        self.pipeline.capture.stop()
        self.pipeline.capture.source.close()
        self.pipeline.capture.join(2.0)  # no thread may sit in a read while the interpreter exits
        self.pipeline.stages.sink.close()
        self._keep_room()
        if self.recorder is not None:
            if not self.recorder.flush():
                log.error("turn history: %d turns could not be recorded before stopping", self.recorder.waiting)
            self.recorder.history.close()

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self._stop.set()
        if self.pipeline is not None:
            self.pipeline.stop()

    # ---- per turn --------------------------------------------------------------------------------

    def _on_turn(self, report: TurnReport) -> None:
        # recorded before it is logged: whoever sees the turn in the log finds it in `assistant history`
        if self.recorder is not None:
            self.recorder.record(report)  # a failed write waits for the next turn; logged there
        log_turn(report)
        total = report.latency_ms.get("reply_audio")
        if total is not None:
            self._last_turn_ms = total
        self._keep_room()
        self.notifier.status(self.status_line())

    def _room_for(self, config: Config, stages: Stages) -> Room | None:
        """The file that keeps what this set's echo gate learns of the room; a new gate is given what was
        learnt there before (over restarts, and over reloads that change the gate)."""
        gate = stages.turn_taking.echo_gate
        if gate is None:
            return None
        memory = RoomMemory.from_config(config.service.room, room_key(config.audio))
        if memory is None:  # service.room.enabled: false
            return None
        running = self.room
        if running is not None and running.gate is gate and running.memory.path == memory.path:
            return running  # the same gate in the same room
        taken = gate.learn_room(memory.load())  # the gate is not in use yet: only this thread touches it
        if taken:
            log.info("echo gate: took %d frames of this room from %s (our voice's leftover %.1f dB%s)", taken,
                     memory.path, gate.leak_db, "" if gate.learnt else ", too few to use yet")
        return Room(memory, gate)

    def _keep_room(self) -> None:
        """Save what the echo gate learnt (after each turn: a crash or SIGKILL loses at most one reply's).
        Only the gate the room belongs to is saved there: after a reload to other devices, the old gate's
        last turn must not land in the new room's file."""
        room, pipeline = self.room, self.pipeline
        if room is not None and pipeline is not None and pipeline.stages.turn_taking.echo_gate is room.gate:
            room.memory.save(room.gate.room)

    def _announce(self, text: str) -> None:
        """Skills (a timer going off) speak through the pipeline, in turn with everything else."""
        if self.pipeline is not None:
            self.pipeline.submit_text(text, route=False)

    def status_line(self) -> str:
        state = self.pipeline.state if self.pipeline else "starting"
        if self.pipeline is not None and self.pipeline.muted:
            state = "muted"
        last = f" · last turn {self._last_turn_ms:.0f} ms" if self._last_turn_ms is not None else ""
        return state + last

    # ---- watchdog --------------------------------------------------------------------------------

    def healthy(self) -> tuple[bool, str]:
        """Healthy = audio keeps arriving (or is being reopened) and no turn hangs."""
        pipeline = self.pipeline
        if pipeline is None:
            return False, "not started"
        now = time.monotonic()
        if now - pipeline.capture.last_read_at > CAPTURE_STALL_S:
            return False, f"no audio from the capture thread for {now - pipeline.capture.last_read_at:.0f} s"
        if pipeline.turn_started_at is not None and now - pipeline.turn_started_at > TURN_WEDGED_S:
            return False, f"a turn has been busy for {now - pipeline.turn_started_at:.0f} s"
        return True, "ok"

    def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval_s
        if interval is None:
            return
        warned = False
        while not self._stop.wait(interval):
            ok, why = self.healthy()
            if ok:
                self.notifier.watchdog()
                warned = False
            elif not warned:  # systemd will restart us when the pings stop; say why once
                log.error("unhealthy, withholding watchdog pings: %s", why)
                warned = True

    # ---- reload ----------------------------------------------------------------------------------

    def reload(self, attempt: Attempt) -> dict[str, Any]:
        """Check the config file again and take it up whole; the running config stays on any problem, and
        when the attempt was abandoned (it overran its deadline) by the time the new stages are built."""
        try:
            new, path = load(self.args.config, allow_empty=False)
            problems = deep_check(new, path)
            if problems:
                raise ConfigError(problems, str(path or ""))
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("reload rejected, keeping the running config: %s%s",
                          f"{exc.source}: " if exc.source else "", problem)
            return {"reloaded": False, "problems": exc.problems}
        try:
            changed = self._apply(new, attempt)
        except Exception as exc:  # a model that fails to load: keep what works
            log.error("reload failed, keeping the running config: %s", exc)
            return {"reloaded": False, "problems": [str(exc)]}
        if changed is None:
            log.warning("an abandoned reload of %s finished late; it changed nothing", path or "built-in defaults")
            return {"reloaded": False, "problems": ["abandoned"]}
        self.config, self.config_path = new, path
        self.reloads.deadline_s = new.service.reload_timeout_s
        log.info("reloaded %s: %s", path or "built-in defaults", ", ".join(changed) or "nothing changed")
        return {"reloaded": True, "changed": changed}

    def _apply(self, new: Config, attempt: Attempt) -> list[str] | None:
        """Build a whole new set of stages for ``new`` off the audio thread, keeping the parts it leaves
        unchanged, and hand it to the pipeline, which takes it up between turns. The mic stays open
        unless the audio settings changed. A failure here, or an abandoned attempt (None), leaves the
        running set untouched; otherwise returns the names of the changed config sections."""
        pipeline, old = self.pipeline, self.config
        assert pipeline is not None
        changed = [name for name in type(new).model_fields if getattr(new, name) != getattr(old, name)]
        running = pipeline.stages
        new_devices = new.audio != old.audio
        sink = build_sink(new) if new_devices else running.sink
        try:
            stages = build_stages(new, sink, config_path=self.config_path, speak=self._announce,
                                  kept=kept_parts(old, new, running))
            room = self._room_for(new, stages)
        except Exception:
            if new_devices:
                sink.close()
            raise
        if not attempt.commit():
            if new_devices:
                sink.close()
            return None
        self._keep_room()  # what the running gate learnt, before a new one may replace it
        taken = pipeline.swap(stages)
        if new_devices:
            pipeline.capture.switch_source(lambda: build_source(new))
        if not taken.wait(SWAP_WAIT_S):
            log.info("reload: the new settings take over once the current turn ends")
        self.room = room
        return changed


class DaemonControl:
    """What the control socket can do; called from its connection threads."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def _pipeline(self) -> Pipeline:
        if self.daemon.pipeline is None:
            raise ControlError("the assistant is still starting", "not_ready")
        return self.daemon.pipeline

    def status(self) -> dict[str, Any]:
        daemon, pipeline = self.daemon, self._pipeline()
        healthy, why = daemon.healthy()
        return {
            "state": "muted" if pipeline.muted else pipeline.state,
            "uptime_s": round(time.monotonic() - daemon.started, 1),
            "pid": os.getpid(),
            "config": str(daemon.config_path or "built-in defaults"),
            "model": daemon.config.asr.model,
            "device": pipeline.capture.source.name,
            "output": pipeline.stages.sink.name,
            "muted": pipeline.muted,
            "healthy": healthy if healthy else why,
            "turns": pipeline.stats.turns,
            "errors": pipeline.stats.errors,
            "dropped_frames": pipeline.capture.dropped,
            "turns_waiting_for_history": daemon.recorder.waiting if daemon.recorder else 0,
            "mic_reopened": pipeline.capture.reopened,
            "listen_mode": daemon.config.listen.mode,
            "wake_words": self._wake_words(pipeline),
            "last_turns": [t.as_dict() for t in pipeline.stats.last_turns[-5:]],
        }

    @staticmethod
    def _wake_words(pipeline: Pipeline) -> dict[str, Any] | None:
        wake = pipeline.stages.wake
        if wake is None:
            return None
        return {"engine": wake.detector.engine, "models": [m.name for m in wake.detector.models],
                "detections": wake.detections, "awake": wake.awake}

    def _run(self, text: str, route: bool) -> dict[str, Any]:
        job = self._pipeline().submit_text(text, route=route)
        if not job.done.wait(170):
            raise ControlError("the assistant is busy; the request is still queued", "timeout")
        return job.report.as_dict() if job.report else {}

    def say(self, text: str) -> dict[str, Any]:
        return self._run(text, route=False)

    def ask(self, text: str) -> dict[str, Any]:
        return self._run(text, route=True)

    def mute(self, muted: bool) -> None:
        self._pipeline().muted = muted
        log.info("microphone %s", "muted" if muted else "unmuted")
        self.daemon.notifier.status(self.daemon.status_line())

    def listen(self) -> None:
        self._pipeline().push_to_talk()

    def reload(self) -> dict[str, Any]:
        return self.daemon.reloads.request()


def run_daemon(args: argparse.Namespace) -> int:
    # A crash in a native backend must not be silent: every thread's Python stack goes to the journal,
    # then systemd restarts the service (Restart=on-failure).
    faulthandler.enable(all_threads=True)
    daemon = Daemon(args)
    logs.setup_logging(logs.level_for(daemon.config.logging, verbose=args.verbose, daemon=True))
    return daemon.run()

