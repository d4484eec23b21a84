"""The graph for the LangGraph CLI and Studio (``langgraph.json``); they bring their own checkpointer."""

from __future__ import annotations

import os

from assistant.backends import make_model
from assistant.graph import build_graph

graph = build_graph(make_model(os.environ.get("DIAODU_BACKEND", "inproc"), os.environ.get("DIAODU_MODEL")))
