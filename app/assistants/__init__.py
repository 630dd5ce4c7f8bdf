"""Assistants: an MCP server (Streamable HTTP) whose tools start, follow and pay for generations by API key."""
