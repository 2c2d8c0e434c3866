"""Platform events in: validation, durable group-commit acceptance, ordered processing."""
