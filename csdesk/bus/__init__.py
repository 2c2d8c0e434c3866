"""In-process and Redis event buses."""
