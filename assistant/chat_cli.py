"""``diaodu chat`` (terminal chat), ``diaodu ask`` (one turn) and ``diaodu approve``."""

from __future__ import annotations

from typing import Any

import typer
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from tools.core.cli import JSON_OPTION, console, guarded, print_json
from tools.core.errors import DiaoduError

BACKEND_OPTION = typer.Option("inproc", "--backend", help="inproc (transformers in this process) or vllm (an OpenAI-compatible vLLM server).")
MODEL_OPTION = typer.Option(None, "--model", help="Model path or hub id (default: the shipped teacher); with vllm, the served model name.")
URL_OPTION = typer.Option(None, "--url", help="vLLM server base URL (default $DIAODU_VLLM_URL or http://127.0.0.1:8001/v1).")
THREAD_OPTION = typer.Option(None, "--thread", help="Conversation id to continue (a new one when omitted).")


def _assistant(backend: str, model: str | None, url: str | None, max_tool_seconds: float | None = None) -> Any:
    from assistant.backends import make_model
    from assistant.service import Assistant

    return Assistant(make_model(backend, model, url), max_tool_seconds=max_tool_seconds)


def render_turn(result: dict[str, Any]) -> None:
    """Show a turn's tool calls as a table and its answer as a panel."""
    if result["calls"]:
        table = Table(title="Tool calls", show_lines=False)
        for col in ("tool", "arguments", "ok", "seconds"):
            table.add_column(col)
        for c in result["calls"]:
            args = ", ".join(f"{k}={v}" for k, v in c["args"].items())
            table.add_row(c["tool"], args, "yes" if c["ok"] else f"[red]{c['result'].get('error', 'error')}[/]", f"{c['seconds']:.2f}")
        console.print(table)
    if result.get("pending_approval"):
        console.print(Panel(result["pending_approval"]["question"] + "  (diaodu approve " + result["thread_id"] + " --yes|--no)",
                            title="approval needed", border_style="yellow"))


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("ask")
    @guarded
    def ask(message: str = typer.Argument(..., help="What the dispatcher says."),
            thread: str | None = THREAD_OPTION, backend: str = BACKEND_OPTION, model: str | None = MODEL_OPTION,
            url: str | None = URL_OPTION,
            max_tool_seconds: float | None = typer.Option(None, help="Cap every solver budget (seconds)."),
            as_json: bool = JSON_OPTION) -> None:
        """One turn: the assistant calls tools and answers."""
        assistant = _assistant(backend, model, url, max_tool_seconds)
        result = assistant.ask(message, thread)
        if as_json:
            print_json(result)
            return
        render_turn(result)
        console.print(Panel(Markdown(result["answer"] or "-"), title=f"Diaodu · thread {result['thread_id']}"))

    @app.command("approve")
    @guarded
    def approve(thread: str = typer.Argument(..., help="The conversation waiting for approval."),
                yes: bool = typer.Option(False, "--yes", help="Approve (send the plan)."),
                no: bool = typer.Option(False, "--no", help="Reject."),
                backend: str = BACKEND_OPTION, model: str | None = MODEL_OPTION, url: str | None = URL_OPTION,
                as_json: bool = JSON_OPTION) -> None:
        """Approve or reject a plan commit that a conversation is waiting on."""
        if yes == no:
            raise DiaoduError("say --yes or --no")
        result = _assistant(backend, model, url).resume(thread, approve=yes)
        if as_json:
            print_json(result)
        else:
            console.print(result["answer"])

    @app.command("chat")
    @guarded
    def chat(thread: str | None = THREAD_OPTION, backend: str = BACKEND_OPTION, model: str | None = MODEL_OPTION,
             url: str | None = URL_OPTION, as_json: bool = JSON_OPTION) -> None:
        """Chat in the terminal (English or 中文). Empty line or Ctrl-D quits; /new starts a new thread."""
        assistant = _assistant(backend, model, url)
        transcript: list[dict[str, Any]] = []
        if not as_json:
            console.print("[bold]Diaodu[/] — ask for routes, replans, schedules or emergency cases. Ctrl-D to quit.")
        while True:
            try:
                text = console.input("[bold cyan]you>[/] ") if not as_json else input()
            except (EOFError, KeyboardInterrupt):
                break
            if not text.strip():
                break
            if text.strip() == "/new":
                thread = None
                continue
            try:
                pending = assistant.pending_approval(thread) if thread else None
                if pending:
                    result = assistant.resume(thread, approve=text.strip().lower() in {"y", "yes", "ok", "是", "确认", "好"})
                else:
                    result = _stream_turn(assistant, text, thread, as_json)
            except DiaoduError as exc:
                console.print(f"[red]{exc.message}[/]") if not as_json else transcript.append({"error": exc.message})
                continue
            thread = result["thread_id"]
            transcript.append(result)
            if not as_json:
                render_turn(result)
        if as_json:
            print_json({"thread_id": thread, "turns": transcript})


def _stream_turn(assistant: Any, text: str, thread: str | None, quiet: bool) -> dict[str, Any]:
    shown = ""
    result: dict[str, Any] = {}
    if quiet:  # --json: no live display, just the final result
        for event in assistant.ask_stream(text, thread):
            result = event.get("result", result)
        return result
    with Live(Panel(""), console=console, refresh_per_second=12, transient=False) as live:
        for event in assistant.ask_stream(text, thread):
            if "delta" in event:
                shown += event["delta"]
            elif "replace" in event:
                shown = event["replace"]
            elif "result" in event:
                result = event["result"]
                shown = result["answer"]
            live.update(Panel(shown, title="Diaodu"))
    return result
