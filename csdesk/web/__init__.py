"""Web layer: API, console, websockets."""
