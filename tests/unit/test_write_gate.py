"""The SQLite write gate: acceptance first, processing never starved."""

from __future__ import annotations

import asyncio

from csdesk.ingest.gate import WriteGate


async def test_disabled_gate_lets_everyone_through_at_once() -> None:
    gate = WriteGate(enabled=False)
    async with gate.priority(), gate.background(), gate.priority():
        pass  # nested without deadlock: no lock is taken on PostgreSQL


async def test_waiting_acceptance_goes_before_waiting_processing() -> None:
    gate = WriteGate(enabled=True)
    order: list[str] = []
    holder_entered = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.priority():
            holder_entered.set()
            await release.wait()

    async def background() -> None:
        async with gate.background():
            order.append("background")

    async def priority() -> None:
        async with gate.priority():
            order.append("priority")

    holder = asyncio.create_task(hold())
    await holder_entered.wait()
    bg = asyncio.create_task(background())  # waits first...
    await asyncio.sleep(0.02)
    pr = asyncio.create_task(priority())  # ...but acceptance arriving later still wins
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, bg, pr)
    assert order == ["priority", "background"]


async def test_background_runs_at_once_outside_a_burst() -> None:
    gate = WriteGate(enabled=True, burst_events=100, max_defer_s=60.0)
    with gate.demand():
        pass
    assert not gate.in_burst
    async with asyncio.timeout(5):  # a hang would be the failure, not slowness
        async with gate.background():
            pass


async def test_background_defers_in_a_burst_but_is_not_starved() -> None:
    gate = WriteGate(enabled=True, burst_events=3, burst_window_s=60.0, max_defer_s=0.05)
    for _ in range(3):
        with gate.demand():
            pass
    assert gate.in_burst
    started = asyncio.Event()

    async def background() -> None:
        async with gate.background():
            started.set()

    task = asyncio.create_task(background())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not started.is_set()  # deferred while the burst goes on...
    async with asyncio.timeout(5):
        await task  # ...yet it gets its slice although the burst never ended
    assert started.is_set()
    assert gate.in_burst


async def test_background_work_sees_how_long_acceptance_has_been_waiting() -> None:
    gate = WriteGate(enabled=True)
    assert gate.acceptance_waited() == 0.0
    inside = asyncio.Event()
    release = asyncio.Event()

    async def processing() -> None:
        async with gate.background():
            inside.set()
            await release.wait()

    async def acceptance() -> None:
        async with gate.priority():
            pass

    holder = asyncio.create_task(processing())
    await inside.wait()
    assert gate.acceptance_waited() == 0.0  # nobody waiting yet
    waiter = asyncio.create_task(acceptance())
    await asyncio.sleep(0.01)
    assert gate.acceptance_waited() > 0.0  # what the processor checks between events
    release.set()
    await asyncio.gather(holder, waiter)
    assert gate.acceptance_waited() == 0.0
