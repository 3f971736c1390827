"""The daemon's lifecycle around the pipeline: start, tell systemd, serve control requests, reload, stop.

    load config -> load models -> open speaker and mic -> control socket -> READY=1 -> run the pipeline
    SIGHUP  -> RELOADING=1, validate the new config; keep the old one if it is invalid; READY=1
    SIGTERM -> STOPPING=1, cut the reply, drain, exit 0
    watchdog: WATCHDOG=1 only while capture delivers audio and no turn is wedged
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from assistant.audio.echo_gate import EchoGate
from assistant.config.schema import Config, ConfigError, load
from assistant.events import TurnReport
from assistant.service import logs
from assistant.service.control import ControlError, ControlServer
from assistant.service.history import History, HistoryError
from assistant.service.logs import log_turn
from assistant.service.reloads import Reloads
from assistant.service.room import RoomMemory, room_key
from assistant.service.sdnotify import Notifier
from assistant.turn.pipeline import Pipeline

log = logging.getLogger("assistant.app.daemon")

CAPTURE_STALL_S = 15.0  # no audio (nor a reopen attempt) for this long: the capture thread is stuck
TURN_WEDGED_S = 300.0  # one turn busy for this long: a stage hangs; let systemd restart us


class Daemon:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.notifier = Notifier.from_env(unset=True)  # children (exec commands) must not notify as us
        self.config, self.config_path = load(args.config)
        self.pipeline: Pipeline | None = None
        self.history: History | None = None
        self.room: RoomMemory | None = None  # the echo gate's learnt room, over restarts
        self.control: ControlServer | None = None
        self._stop = threading.Event()
        self.reloads = Reloads(self.reload)
        self._last_turn_ms: float | None = None

    # ---- start -----------------------------------------------------------------------------------

    def build(self) -> Pipeline:
        from assistant.app.build import (
            build_pipeline,
            build_recognizer,
            build_sink,
            build_source,
            build_synthesizer,
            warm_up,
        )

        config = self.config
        log.info("config: %s", self.config_path or "built-in defaults")
        # Models first (slow), then the devices: the mic opens only when we can answer right away.
        self.notifier.status("loading models")
        recognizer = build_recognizer(config)
        synthesizer = build_synthesizer(config)
        sink = build_sink(config)
        source = build_source(config)
        pipeline = build_pipeline(config, source, sink, config_path=self.config_path, recognizer=recognizer,
                                  synthesizer=synthesizer)
        pipeline.on_turn = self._on_turn
        self.room = RoomMemory.from_config(config.service.room, room_key(config.audio))
        self._take_room(pipeline.echo_gate)
        self.notifier.status("loading the language model")
        warm_up(pipeline)  # the LLM loads now, not on the first question
        self.pipeline = pipeline
        if config.service.history.enabled:
            try:
                self.history = History.from_config(config.service.history)
            except HistoryError as exc:  # losing history must not cost the user their assistant
                log.warning("turn history disabled: %s", exc)
        if config.service.control.enabled:  # a ControlError (socket path taken, say) is the user's to fix
            self.control = ControlServer.from_config(config.service.control, DaemonControl(self)).start()
            log.info("control socket: %s", self.control.path)
        return pipeline

    def run(self) -> int:
        pipeline = self.build()
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, lambda signum, frame: self.reloads.signal())
        threading.Thread(target=self.reloads.run, args=(self._stop,), name="reload", daemon=True).start()
        threading.Thread(target=self._watchdog, name="watchdog", daemon=True).start()
        log.info("listening on %s, replying through %s", pipeline.capture.source.name, pipeline.sink.name)
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
        self.pipeline.close()
        self.pipeline.capture.stop()
        self.pipeline.capture.source.close()
        self.pipeline.capture.join(2.0)  # no thread may sit in a read while the interpreter exits
        self.pipeline.sink.close()
        self._keep_room()
        if self.history is not None:
            self.history.close()

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        self._stop.set()
        if self.pipeline is not None:
            self.pipeline.stop()

    # ---- per turn --------------------------------------------------------------------------------

    def _on_turn(self, report: TurnReport) -> None:
        # recorded before it is logged: whoever sees the turn in the log finds it in `assistant history`
        if self.history is not None:
            try:
                self.history.append(report)
            except HistoryError as exc:
                log.warning("could not record the turn: %s", exc)
        log_turn(report)
        total = report.latency_ms.get("reply_audio")
        if total is not None:
            self._last_turn_ms = total
        self._keep_room()
        self.notifier.status(self.status_line())

    def _take_room(self, gate: EchoGate | None) -> None:
        """Give a new echo gate what was learnt of this room before the restart."""
        if gate is None or self.room is None:
            return
        taken = gate.learn_room(self.room.load())
        if taken:
            log.info("echo gate: took %d frames of this room from %s (our voice's leftover %.1f dB%s)", taken,
                     self.room.path, gate.leak_db, "" if gate.learnt else ", too few to use yet")

    def _keep_room(self) -> None:
        """Save what the echo gate learnt (after each turn: a crash or SIGKILL loses at most one reply's)."""
        gate = self.pipeline.echo_gate if self.pipeline is not None else None
        if gate is not None and self.room is not None:
            self.room.save(gate.room)

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

    def reload(self) -> dict[str, Any]:
        self.notifier.reloading("reloading configuration")
        try:
            try:
                new, path = load(self.args.config)
                from assistant.app.checks import deep_check

                problems = deep_check(new, path)
                if problems:
                    raise ConfigError(problems, str(path or ""))
            except ConfigError as exc:
                for problem in exc.problems:
                    log.error("reload rejected, keeping the running config: %s%s",
                              f"{exc.source}: " if exc.source else "", problem)
                return {"reloaded": False, "problems": exc.problems}
            try:
                changed = self._apply(new)
            except Exception as exc:  # a model that fails to load: keep what works
                log.error("reload failed, keeping the running config: %s", exc)
                return {"reloaded": False, "problems": [str(exc)]}
            self.config, self.config_path = new, path
            log.info("reloaded %s: %s", path or "built-in defaults", ", ".join(changed) or "nothing changed")
            return {"reloaded": True, "changed": changed}
        finally:
            self.notifier.ready(self.status_line())

    def _apply(self, new: Config) -> list[str]:
        """Swap in what changed; the mic stays open unless the audio settings changed."""
        from assistant.app.build import (
            build_endpointer,
            build_recognizer,
            build_router,
            build_sink,
            build_source,
            build_synthesizer,
            build_turn_taking,
            speculator_for,
        )
        from assistant.hearing.listen import build_listener
        from assistant.speech.earcons import Earcons

        pipeline, old = self.pipeline, self.config
        assert pipeline is not None
        changed = [name for name in type(new).model_fields if getattr(new, name) != getattr(old, name)]
        # build everything first, so a failure leaves the running pipeline untouched
        recognizer = build_recognizer(new) if new.asr != old.asr else None
        synthesizer = build_synthesizer(new) if new.tts != old.tts else None
        def announce(text: str) -> None:
            pipeline.submit_text(text, route=False)

        router = build_router(new, self.config_path, speak=announce)
        sink = build_sink(new) if new.audio != old.audio else None
        if recognizer is not None:
            pipeline.recognizer = recognizer
            if pipeline.speculator is not None:
                pipeline.speculator.recognizer = recognizer
        if new.latency != old.latency:  # speculation and adaptive end settings: a new speculator
            replaced = pipeline.speculator
            pipeline.speculator = speculator_for(new, pipeline.recognizer, lambda: pipeline)
            if replaced is not None:
                replaced.close()  # a turn already ended is recognised again in full, nothing is lost
        old_sink = pipeline.sink
        pipeline.replace_output(synthesizer, sink)
        pipeline.close()  # the old router's timer thread; the new one reloads the timers file
        pipeline.router = router
        pipeline.listener = build_listener(new, vocabulary=router.vocabulary())
        if new.vad != old.vad or new.latency != old.latency:
            pipeline.replace_endpointer(build_endpointer(new, pipeline.speculator))
        pipeline.echo_tail_s = new.turn.echo_tail_ms / 1000
        self._keep_room()  # under the old devices and path, before the gate may be replaced
        if sink is not None or new.service.room != old.service.room:
            self.room = RoomMemory.from_config(new.service.room, room_key(new.audio))
        if sink is not None or new.turn != old.turn or new.barge_in != old.barge_in or new.earcons != old.earcons:
            # other devices are another room: a new gate, given what was learnt of that one before
            echo_gate, stop_phrase = build_turn_taking(new, pipeline.echo_gate if sink is None else None)
            if echo_gate is not pipeline.echo_gate:
                self._take_room(echo_gate)
            pipeline.replace_turn_taking(new.turn.policy, echo_gate, stop_phrase,
                                         Earcons(new.earcons, sink or pipeline.sink))
        if sink is not None:
            old_sink.close()
            pipeline.capture.switch_source(lambda: build_source(new))
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
            "output": pipeline.sink.name,
            "muted": pipeline.muted,
            "healthy": healthy if healthy else why,
            "turns": pipeline.stats.turns,
            "errors": pipeline.stats.errors,
            "dropped_frames": pipeline.capture.dropped,
            "mic_reopened": pipeline.capture.reopened,
            "last_turns": [t.as_dict() for t in pipeline.stats.last_turns[-5:]],
        }

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
    daemon = Daemon(args)
    logs.setup_logging(logs.level_for(daemon.config.logging, verbose=args.verbose, daemon=True))
    return daemon.run()

