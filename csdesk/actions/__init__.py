"""Writes, and only here.

Two layers: the ``record_*`` / ``ensure_*`` functions take the caller's session and never
commit (so an event's effects commit with its ``processed`` mark, and seeding writes a
thousand rows per transaction); the functions people and jobs call (``workbench``,
``sweeps``, ``users``) own their transaction and publish bus events and queue-index
updates only after it committed (``outbox.transaction``).
"""
