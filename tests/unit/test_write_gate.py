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
    gate.note_demand()
    assert not gate.in_burst
    async with asyncio.timeout(5):  # a hang would be the failure, not slowness
        async with gate.background():
            pass


async def test_background_defers_in_a_burst_but_is_not_starved() -> None:
    gate = WriteGate(enabled=True, burst_events=3, burst_window_s=60.0, max_defer_s=0.05)
    for _ in range(3):
        gate.note_demand()
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


async def test_background_work_yields_as_soon_as_an_acceptance_waits() -> None:
    gate = WriteGate(enabled=True, max_defer_s=60.0)
    assert not gate.should_yield()
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
    assert not gate.should_yield()  # nobody waiting yet: keep going
    waiter = asyncio.create_task(acceptance())
    await asyncio.sleep(0)
    assert gate.should_yield()  # what the processor checks between two events
    release.set()
    await asyncio.gather(holder, waiter)
    assert not gate.should_yield()


async def test_starved_background_work_gets_a_slice_it_keeps_despite_waiting_acceptance() -> None:
    gate = WriteGate(enabled=True, max_defer_s=0.02, slice_s=60.0)
    busy = asyncio.Event()
    stop = asyncio.Event()

    async def endless_acceptance() -> None:
        # Always one acceptance holding the gate and another one queued behind it.
        while not stop.is_set():
            async with gate.priority():
                busy.set()
                await asyncio.sleep(0.001)

    feeders = [asyncio.create_task(endless_acceptance()) for _ in range(2)]
    await busy.wait()
    async with asyncio.timeout(5):  # a hang (starvation) would be the failure
        async with gate.background():
            await asyncio.sleep(0.01)
            # Acceptances queue up meanwhile, but the slice is still running.
            assert not gate.should_yield()
    stop.set()
    await asyncio.gather(*feeders)


async def test_a_burst_lasts_until_the_rate_falls_well_below_its_threshold() -> None:
    gate = WriteGate(enabled=True, burst_events=8, burst_window_s=0.05)
    for _ in range(8):
        gate.note_demand()
    assert gate.in_burst
    await asyncio.sleep(0.06)
    for _ in range(3):  # below the threshold of 8, above a quarter of it
        gate.note_demand()
    assert gate.in_burst
    await asyncio.sleep(0.06)
    gate.note_demand()
    assert not gate.in_burst
