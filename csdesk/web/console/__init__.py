"""The agent workbench: ``views`` (HTML pages), ``api`` (JSON), ``queries`` (what they read)."""
