"""Read models: what the API, the console and ``/metrics`` show, each read once here.

A module per area (``board``, ``queues``, ``lists``, ``panels``, ``roster``, ``metrics``
...). A read takes a session factory (or the caller's session), the caller and ``now``,
checks access, runs its SELECTs and returns a typed result; the JSON shape is made at the
edge by the result's ``to_json()`` or by one of the serializers here (``conversation_json``,
``order_json``), so a shape is written once.

Nothing here writes: no ``session.add``/``delete``/``commit``/``flush`` and no
INSERT/UPDATE/DELETE statement (``tests/unit/test_reads_never_write.py`` checks it). Reads
import nothing from ``csdesk.actions``; actions may use reads (e.g. the queue depth an
action publishes after a move).
"""
