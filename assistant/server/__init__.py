"""The HTTP server: OpenAI-compatible chat, REST for plans/schedules/cases/threads, the web console.

Run it with ``diaodu serve`` (127.0.0.1:8000; ``--host 0.0.0.0`` needs ``--token`` or
``$DIAODU_TOKEN``) and open http://127.0.0.1:8000/. Any OpenAI client can talk to it::

    client = openai.OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=TOKEN or "none")
    r = client.chat.completions.create(model="diaodu", messages=[{"role": "user", "content": "plan demo-city"}],
                                       extra_body={"conversation_id": "desk-3"})   # or header X-Conversation-Id
    r.model_extra["diaodu"]   # tool calls, plan_id / schedule_id, pending approval

``diaodu bench load`` runs the bounded load test (:mod:`assistant.server.loadtest`).
"""

from assistant.server.app import create_app

__all__ = ["create_app"]
