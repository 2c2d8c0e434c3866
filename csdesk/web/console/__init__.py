"""The agent workbench: ``views`` (HTML pages) and ``api`` (JSON); what they read is in
``csdesk.reads``."""
