"""Writes: each action owns its transaction and publishes bus events after commit."""
