"""Claim benchmark: Redis claims through the queue index's Lua script, against a same-run
baseline of the cheapest possible script round trip (EVALSHA of ``return 1``).

Both phases use the same client code path (redis-py's registered script), the same number of
concurrent claimers, each on its own connection, and alternate over a few rounds so drift hits
both alike. The ratio says what the claim logic costs on top of a bare round trip.

    python -m bench.bench_claims [--json] [--concurrency 8] [--seconds 0.6] [--rounds 3]

Redis from ``CSDESK_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), loopback only;
every key it writes is under a fresh ``csdesk-bench:<id>:`` prefix and deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlparse

from redis.asyncio import Redis
from redis.exceptions import RedisError

from csdesk.routing.queues import RedisWorkQueue

DEFAULT_URL = "redis://127.0.0.1:6379/0"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SHOP = "bench-shop"
ROLES = ("presales", "refund", "aftersales_triage")
TRIVIAL_LUA = "return 1"


@dataclass(frozen=True)
class Phase:
    ops: int
    seconds: float
    latencies_s: list[float]

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


async def _drive(ops: Sequence[Callable[[], Awaitable[bool]]], seconds: float) -> Phase:
    """Run every op in its own loop until the deadline (or until an op reports no work)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(op: Callable[[], Awaitable[bool]]) -> None:
        while True:
            started = time.perf_counter()
            if started >= deadline:
                return
            if not await op():
                return
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(loop(op) for op in ops))
    return Phase(len(latencies), time.perf_counter() - started, latencies)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


async def run_claims(
    *, concurrency: int = 8, seconds: float = 0.6, rounds: int = 3, redis_url: str = DEFAULT_URL
) -> dict[str, Any]:
    prefix = f"csdesk-bench:{uuid.uuid4().hex[:8]}:"
    clients = [Redis.from_url(redis_url) for _ in range(concurrency)]
    try:
        queues = [RedisWorkQueue(client, prefix) for client in clients]
        trivial = [client.register_script(TRIVIAL_LUA) for client in clients]

        async def claim_op(queue: RedisWorkQueue) -> bool:
            return await queue.claim(SHOP, ROLES) is not None

        async def trivial_op(index: int) -> bool:
            return bool(await trivial[index]())

        claim_ops = [partial(claim_op, queue) for queue in queues]
        trivial_ops = [partial(trivial_op, index) for index in range(concurrency)]

        # Enough items that the claimers never run dry (about 3x the rate seen on the dev box;
        # ``items_left`` in the result shows the margin). Keys repeat, so ties are broken by id.
        items = int(40_000 * seconds * rounds) + 10_000
        await queues[0].rebuild(
            SHOP, ((ROLES[i % 3], i, float(i * 7919 % 101)) for i in range(items))
        )
        print(f"bench_claims: {items} items queued, {concurrency} claimers", file=sys.stderr)

        # Warm-up: connections open, scripts loaded, code paths hot.
        await _drive(trivial_ops, 0.1)
        await _drive(claim_ops, 0.1)

        baseline: list[Phase] = []
        ours: list[Phase] = []
        for round_no in range(rounds):
            baseline.append(await _drive(trivial_ops, seconds))
            ours.append(await _drive(claim_ops, seconds))
            print(
                f"bench_claims: round {round_no + 1}: baseline {baseline[-1].per_second:.0f}/s,"
                f" claims {ours[-1].per_second:.0f}/s",
                file=sys.stderr,
            )
        left = sum([await queues[0].depth(SHOP, role) for role in ROLES])
        info = await clients[0].info("server")
    finally:
        keys = [k async for k in clients[0].scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await clients[0].delete(*keys)
        for client in clients:
            await client.aclose()

    base_rate = statistics.median(p.per_second for p in baseline)
    our_rate = statistics.median(p.per_second for p in ours)
    base_lat = [x for p in baseline for x in p.latencies_s]
    our_lat = [x for p in ours for x in p.latencies_s]
    return {
        "bench": "claims",
        "redis_version": info.get("redis_version"),
        "concurrency": concurrency,
        "rounds": rounds,
        "seconds_per_phase": seconds,
        "items_queued": items,
        "items_left": left,
        "baseline_ops_per_s": round(base_rate, 1),
        "baseline_p50_ms": _ms(base_lat, 0.5),
        "baseline_p99_ms": _ms(base_lat, 0.99),
        "csdesk_claims_per_s": round(our_rate, 1),
        "csdesk_p50_ms": _ms(our_lat, 0.5),
        "csdesk_p99_ms": _ms(our_lat, 0.99),
        "ratio": round(our_rate / base_rate, 3) if base_rate else None,
    }


def _positive(kind: type[int] | type[float]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        value = kind(raw)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than zero: {raw}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_claims", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--concurrency", type=_positive(int), default=8)
    parser.add_argument("--seconds", type=_positive(float), default=0.6, help="per phase")
    parser.add_argument("--rounds", type=_positive(int), default=3)
    args = parser.parse_args(argv)

    url = os.environ.get("CSDESK_BENCH_REDIS_URL", DEFAULT_URL)
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        print(f"bench_claims: Redis must be on loopback, not {host!r}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(
            run_claims(
                concurrency=args.concurrency,
                seconds=args.seconds,
                rounds=args.rounds,
                redis_url=url,
            )
        )
    except (OSError, RedisError) as exc:
        print(f"bench_claims: Redis at {url} failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"claims {result['csdesk_claims_per_s']:.0f}/s (p50 {result['csdesk_p50_ms']} ms)"
            f" vs trivial EVALSHA {result['baseline_ops_per_s']:.0f}/s"
            f" (p50 {result['baseline_p50_ms']} ms): ratio {result['ratio']}"
            f" at {result['concurrency']} concurrent connections"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
