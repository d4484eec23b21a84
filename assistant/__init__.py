"""The dispatcher's assistant: a LangGraph agent over Diaodu's tools, and the CLI."""
