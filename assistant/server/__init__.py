"""The HTTP server: OpenAI-compatible chat, REST for plans/schedules/cases/threads, the web console."""

from assistant.server.app import create_app

__all__ = ["create_app"]
