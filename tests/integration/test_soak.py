"""The soak, short (the long one is ``csdesk bench --only soak``): 500 websocket consoles
and signed events at up to 1,000/s for 10 s against a real ``csdesk serve``.

No timing threshold (the machine decides the rate it reaches); what must hold: every
POST acknowledged with 202, no socket dropped, the server alive, and every accepted event
processed once the stream stops.
"""

from __future__ import annotations

from bench.soak import run_soak


async def test_soak_of_500_sockets_and_a_steady_event_stream() -> None:
    # One buyer per console: after the first message each event is a message in a chat an
    # agent holds, so the sockets carry the traffic.
    result = await run_soak(consoles=500, rate=1000.0, seconds=10.0, buyers=500, drain_s=90.0)
    assert result["errors"] == 0, result["first_errors"]
    assert result["statuses"] == {"202": result["sent"]}
    assert result["sockets_closed_by_server"] == 0
    assert result["server_alive"]
    assert result["events"] == {"processed": result["sent"]}
    assert result["socket_events_received"] > 0
