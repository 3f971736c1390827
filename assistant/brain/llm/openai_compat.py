"""Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp's server, LM Studio, `transformers serve`).

Plain ``http.client`` with server-sent events: no SDK dependency, separate connect/read timeouts, and a socket
another thread can shut down when a turn times out.
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from assistant.brain.camera import prepare_image
from assistant.brain.llm import prompts
from assistant.brain.llm.base import ChatMessage, Completion, LlmError, ToolCall

log = logging.getLogger(__name__)


class OpenAICompatLLM:
    supports_images = True  # the server decides; a text-only model there simply ignores the image

    def __init__(self, config: Any) -> None:
        self._config = config
        self.name = config.model
        try:
            url = urllib.parse.urlsplit(config.base_url.rstrip("/"))
            hostname, _ = url.hostname, url.port
        except ValueError as exc:  # "Invalid IPv6 URL", a port out of range
            raise LlmError(f"llm.base_url {config.base_url!r} is not a valid URL: {exc}") from None
        if url.scheme not in ("http", "https") or not hostname:
            raise LlmError(f"llm.base_url must be an http(s) URL, not {config.base_url!r}")
        self._url = url
        self._key = os.environ.get(config.api_key_env) if config.api_key_env else None
        # "auto" tries native function calling and falls back to the JSON protocol if the server refuses tools.
        self.supports_native_tools = config.tools in ("auto", "native")
        # Token counts come in a stream's last event only when asked for (OpenAI's stream_options); a server
        # that rejects the option is asked without it from then on, and we count text events instead.
        self.reports_usage = True
        self._lock = threading.Lock()

    # -- HTTP ---------------------------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        config = self._config
        cls = http.client.HTTPSConnection if self._url.scheme == "https" else http.client.HTTPConnection
        connection = cls(self._url.hostname or "", self._url.port, timeout=config.connect_timeout_s)
        connection.connect()
        if connection.sock is not None:
            # After connecting, the wait that matters is for the model's first token.
            connection.sock.settimeout(config.first_token_timeout_s)
        return connection

    def _post(self, path: str, body: dict[str, Any], completion: Completion) -> tuple[http.client.HTTPConnection, Any]:
        """Send one request (retrying connection failures) and return the open response."""
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        payload = json.dumps(body).encode("utf-8")
        attempts = self._config.retries + 1
        for attempt in range(attempts):
            try:
                connection = self._connect()
                completion.on_abort(functools.partial(_shutdown, connection))
                connection.request("POST", self._url.path + path, body=payload, headers=headers)
                return connection, connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                reason = _reason(exc)
                if attempt + 1 >= attempts or completion.aborted:  # nobody waits for an abandoned turn
                    raise LlmError(f"cannot reach the LLM server at {self._config.base_url}: {reason}") from None
                log.warning("LLM server %s: %s; retrying", self._config.base_url, reason)
                time.sleep(0.3 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- requests -----------------------------------------------------------------------------------------

    def _messages(self, messages: list[ChatMessage], image: bytes | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": m.role, "content": m.content} for m in messages]
        if image is not None:
            data, mime = prepare_image(image, self._config.image_max_side)
            url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            last_user = max(i for i, m in enumerate(messages) if m.role == "user")
            out[last_user]["content"] = [
                {"type": "text", "text": messages[last_user].content},
                {"type": "image_url", "image_url": {"url": url}},
            ]
        return out

    def stream(self, messages: list[ChatMessage], *, image: bytes | None = None, max_tokens: int,
               tools: list[dict[str, Any]] | None = None) -> Completion:
        completion = Completion(self.name)
        completion.image_used = image is not None
        specs = prompts.normalise_tools(tools)
        names = {t["function"]["name"] for t in specs}
        if self._config.prompt_style == "completion":
            if image is not None:
                log.warning("completion-style prompts cannot carry images; answering from the text alone")
                completion.image_used = False
            prompt = prompts.completion_prompt(prompts.with_tool_instructions(messages, tools) if tools else messages,
                                               self._config.few_shot)
            body = self._body(max_tokens) | {"prompt": prompt, "stop": prompts.COMPLETION_STOP}
            # Some servers (`transformers serve`) leave the stop string in the text: cut there ourselves too.
            deltas = prompts.apply_stops(self._events("/completions", body, completion, completion_api=True),
                                         prompts.COMPLETION_STOP)
            return completion.attach(prompts.split_json_tool(deltas, completion, names) if tools else deltas)
        native = bool(specs) and self.supports_native_tools
        chat = self._messages(prompts.with_tool_instructions(messages, tools) if tools and not native else messages,
                              image)
        body = self._body(max_tokens) | {"messages": chat}
        if native:
            body["tools"] = specs
            fallback = self._body(max_tokens) | {
                "messages": self._messages(prompts.with_tool_instructions(messages, specs), image)
            }
            deltas = self._native_or_json(body, fallback, completion, names)
        else:
            deltas = self._events("/chat/completions", body, completion)
            if specs:
                deltas = prompts.split_json_tool(deltas, completion, names)
        return completion.attach(deltas)

    def _body(self, max_tokens: int) -> dict[str, Any]:
        config = self._config
        body: dict[str, Any] = {"stream": True, "max_tokens": max_tokens, "temperature": config.temperature}
        if self.reports_usage:
            body["stream_options"] = {"include_usage": True}
        if config.model:
            body["model"] = config.model
        if config.temperature > 0:
            body["top_p"] = config.top_p
        return body

    def _native_or_json(
        self, body: dict[str, Any], fallback: dict[str, Any], completion: Completion, names: set[str]
    ) -> Iterator[str]:
        try:
            yield from self._events("/chat/completions", body, completion)
        except _Refused as refused:
            if self._config.tools == "native":
                raise LlmError(str(refused)) from None
            log.info("the server refused native tools (%s); using the JSON protocol from now on", refused)
            self.supports_native_tools = False
            yield from prompts.split_json_tool(self._events("/chat/completions", fallback, completion), completion,
                                               names)

    def _events(
        self, path: str, body: dict[str, Any], completion: Completion, *, completion_api: bool = False
    ) -> Iterator[str]:
        with self._lock:  # one request at a time: local servers serve them serially anyway
            connection, response = self._post(path, body, completion)
            try:
                if response.status >= 400:
                    detail = _error_detail(response)
                    if "stream_options" in body and response.status in (400, 422) and "stream_options" in detail:
                        log.info("the LLM server does not take stream_options; counting tokens ourselves")
                        self.reports_usage = False
                        connection.close()
                        body = {key: value for key, value in body.items() if key != "stream_options"}
                        connection, response = self._post(path, body, completion)
                        if response.status >= 400:
                            detail = _error_detail(response)
                if response.status >= 400:
                    message = f"the LLM server answered HTTP {response.status}: {detail or response.reason}"
                    if "tools" in body and response.status in (400, 422, 500, 501):
                        raise _Refused(message)
                    raise LlmError(message)
                yield from self._read_sse(response, completion, completion_api)
            except (OSError, http.client.HTTPException) as exc:
                reason = _reason(exc)
                raise LlmError(f"the LLM server at {self._config.base_url} stopped answering: {reason}") from None
            finally:
                connection.close()

    def _read_sse(self, response: Any, completion: Completion, completion_api: bool) -> Iterator[str]:
        calls: dict[int, dict[str, str]] = {}
        while True:
            line = response.readline()
            if not line:
                break  # `transformers serve` ends the stream without [DONE]
            text = line.decode("utf-8", "replace").strip()
            if not text.startswith("data:"):
                continue
            data = text[5:].strip()
            if data == "[DONE]":
                break
            try:
                event = json.loads(data)
            except ValueError:
                log.debug("ignoring a malformed SSE line: %.200s", data)
                continue
            usage = event.get("usage") or {}
            if usage.get("prompt_tokens") is not None:
                completion.prompt_tokens = int(usage["prompt_tokens"])
            if usage.get("completion_tokens") is not None:
                completion.completion_tokens = int(usage["completion_tokens"])
            if "error" in event:
                raise LlmError(f"the LLM server reported an error: {event['error']}")
            for choice in event.get("choices") or []:
                if completion_api:
                    content = choice.get("text") or ""
                else:
                    delta = choice.get("delta") or {}
                    content = delta.get("content") or ""
                    for call in delta.get("tool_calls") or []:
                        slot = calls.setdefault(int(call.get("index", 0)), {"name": "", "arguments": ""})
                        function = call.get("function") or {}
                        slot["name"] += function.get("name") or ""
                        slot["arguments"] += function.get("arguments") or ""
                if content:
                    if not usage:
                        completion.completion_tokens += 1  # servers usually send one token per event
                    yield content
        if calls:
            first = calls[min(calls)]
            try:
                arguments = json.loads(first["arguments"] or "{}")
            except ValueError:
                raise LlmError(f"the model's tool call had malformed arguments: {first['arguments']!r}") from None
            completion.tool_call = ToolCall(first["name"], arguments if isinstance(arguments, dict) else {})

    def close(self) -> None:
        pass


class _Refused(LlmError):
    """The server rejected a request that carried tools."""


def _shutdown(connection: http.client.HTTPConnection) -> None:
    if connection.sock is not None:
        connection.sock.shutdown(socket.SHUT_RDWR)


def _error_detail(response: Any) -> str:
    """The start of an error response's body, on one line."""
    return str(response.read(400).decode("utf-8", "replace").strip().replace("\n", " "))


def _reason(exc: BaseException) -> str:
    return "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
