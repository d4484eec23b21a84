"""The ``diaodu`` command line.

Each domain package contributes its commands through a ``register(app, bench_app)``
function in its own ``cli`` module, so this file only lists them. Every command takes
``--json`` and then prints one JSON document.
"""

from __future__ import annotations

import importlib
import os

import typer

from tools.core.cli import setup_logging

# Order is the order of --help. A module that is not there (an optional part not yet
# installed) is skipped; any other import error is a bug and is raised.
COMMAND_MODULES = [
    "tools.core.commands",
    "tools.routing.cli",
    "tools.replan.cli",
    "tools.jobshop.cli",
    "tools.importing.cli",
    "knowledge_graph.cli",
    "assistant.chat_cli",
    "assistant.server_cli",
    "evals.cli",
    "finetune.cli",
]

app = typer.Typer(help="Diaodu (调度): a scheduling assistant for dispatchers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
bench_app = typer.Typer(help="Benchmarks: side-by-side measurements (commands, not tests).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress.")) -> None:
    setup_logging(verbose)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        module.register(app, bench_app)


_register_all()


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()


if __name__ == "__main__":
    main()
