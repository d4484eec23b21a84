"""``diaodu serve`` (HTTP API and web console) and ``diaodu bench load`` (concurrent-conversation load test)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from pathlib import Path
from typing import Any

import typer

from tools.core.cli import JSON_OPTION, console, guarded, print_json
from tools.core.errors import DiaoduError, check_choice, check_int, check_number

BACKENDS = ("inproc", "vllm")
TESTING_BACKEND = "rules-testing"  # keyword rules, not a model: for the e2e and load tests only


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build_assistant(backend: str, model: str | None = None, url: str | None = None,
                    max_tool_seconds: float | None = None) -> Any:
    """The assistant behind the server, with a clear error when the model cannot be loaded."""
    from assistant.service import Assistant

    if backend == TESTING_BACKEND:
        from assistant.server.rules_model import RuleTestingModel

        return Assistant(RuleTestingModel(), max_tool_seconds=max_tool_seconds)
    check_choice("backend", backend, BACKENDS)
    from assistant.backends import DEFAULT_MODEL, make_model

    path = model or DEFAULT_MODEL
    if backend == "inproc" and not Path(path).exists() and "/" in path and Path(path).is_absolute():
        raise DiaoduError(f"no model at {path}; train the shipped teacher first, or pass --model PATH or --backend vllm",
                          code="model_missing")
    try:
        chat_model = make_model(backend, model, url)
    except ModuleNotFoundError as exc:
        raise DiaoduError(f"the {backend} backend cannot load: module {exc.name!r} is missing", code="model_missing") from None
    except OSError as exc:
        raise DiaoduError(f"cannot load the model {path!r}: {exc}", code="model_missing") from None
    return Assistant(chat_model, max_tool_seconds=max_tool_seconds)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("serve")
    @guarded
    def serve(host: str = typer.Option("127.0.0.1", help="Address to bind; anything but loopback needs --token."),
              port: int = typer.Option(8000, help="TCP port."),
              token: str | None = typer.Option(None, help="Bearer token every request must carry (default $DIAODU_TOKEN)."),
              backend: str = typer.Option("inproc", help="inproc (transformers in this process) or vllm."),
              model: str | None = typer.Option(None, help="Model path (default: the shipped teacher); with vllm, the served name."),
              url: str | None = typer.Option(None, help="vLLM server base URL (with --backend vllm)."),
              max_tool_seconds: float | None = typer.Option(None, help="Cap every solver budget (seconds)."),
              as_json: bool = JSON_OPTION) -> None:
        """Serve the OpenAI-compatible chat API, the REST API and the dispatcher web console."""
        import uvicorn

        from assistant.server.app import create_app

        check_int("port", port, minimum=1, maximum=65535)
        if max_tool_seconds is not None:
            check_number("max_tool_seconds", max_tool_seconds, minimum=0.1)
        token = token or os.environ.get("DIAODU_TOKEN") or None
        if not is_loopback(host) and not token:
            raise DiaoduError(f"binding to {host} (not loopback) needs a token: pass --token or set DIAODU_TOKEN",
                              code="token_required")
        assistant = build_assistant(backend, model, url, max_tool_seconds)
        info = {"url": f"http://{host}:{port}", "model": assistant.model.name, "auth": bool(token), "status": "serving"}
        if as_json:
            print_json(info)
        else:
            console.print(f"Diaodu console on [bold]{info['url']}[/] · model {info['model']}"
                          + (" · token required" if token else ""))
        uvicorn.run(create_app(assistant, token=token), host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=5)

    @bench_app.command("load")
    @guarded
    def load(conversations: int = typer.Option(20, help="Concurrent conversations."),
             seconds: float = typer.Option(60.0, help="How long new turns are started (in-flight turns finish)."),
             url: str | None = typer.Option(None, help="Test a running server (loopback only); default: start one."),
             token: str | None = typer.Option(None, help="Bearer token for --url (default $DIAODU_TOKEN)."),
             backend: str = typer.Option(TESTING_BACKEND, help=f"Backend of the server started here: {TESTING_BACKEND} "
                                         "(keyword rules; measures the server, graph and store) or inproc/vllm."),
             model: str | None = typer.Option(None, help="Model path for inproc/vllm."),
             as_json: bool = JSON_OPTION) -> None:
        """Load test: concurrent conversations for a bounded time; p50/p95 latency, errors, lost or mixed-up messages."""
        from assistant.server.loadtest import local_server, run_load

        check_int("conversations", conversations, minimum=1, maximum=200)
        check_number("seconds", seconds, minimum=1, maximum=600)
        if backend != TESTING_BACKEND:
            check_choice("backend", backend, BACKENDS)
        token = token or os.environ.get("DIAODU_TOKEN") or None
        if url:
            from urllib.parse import urlparse

            host = urlparse(url).hostname or ""
            if not is_loopback(host):
                raise DiaoduError(f"the load test only targets loopback servers; got host {host!r}")
            report = asyncio.run(run_load(url.rstrip("/"), conversations, seconds, token))
        else:
            with local_server(backend, model) as base:
                report = asyncio.run(run_load(base, conversations, seconds))
            report["backend"] = backend
        if as_json:
            print_json(report)
            return
        lat = report["latency_s"]
        console.print(f"{report['ok_turns']}/{report['turns']} turns in {report['wall_s']} s "
                      f"({report['turns_per_s']}/s) · p50 {lat['p50']} s · p95 {lat['p95']} s · errors {report['errors']} · "
                      f"lost {report['lost_messages']} · mixed-up {report['mixed_up']} · model {report['model']}")
