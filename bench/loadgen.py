"""A paced HTTP load generator, run as its own process: POST pre-signed bodies at a fixed
offered rate (open loop, at most ``--in-flight`` requests outstanding) for a bounded time;
prints one JSON line (sent, statuses, errors, latency percentiles).

    python -m bench.loadgen --url URL --bodies FILE --rate 200 --seconds 12

FILE holds one ``<signature>\\t<body>`` a line (as written for wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.stats import percentile


async def offer(
    url: str, signed: list[tuple[str, bytes]], rate: float, seconds: float, in_flight: int
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    errors = 0
    latencies: list[float] = []
    limit = asyncio.Semaphore(in_flight)
    tasks: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=in_flight)
    ) as http:

        async def post(signature: str, body: bytes) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                async with http.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json", "X-Csdesk-Signature": signature},
                ) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            finally:
                limit.release()

        started = time.monotonic()
        sent = 0
        while sent < len(signed) and (now := time.monotonic()) - started < seconds:
            due = started + sent / rate
            if due > now:
                await asyncio.sleep(due - now)
            await limit.acquire()
            task = asyncio.create_task(post(*signed[sent]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        offered_s = time.monotonic() - started
        await asyncio.gather(*tasks)
    latencies.sort()
    return {
        "sent": sent,
        "offered_s": round(offered_s, 2),
        "offered_per_s": round(sent / offered_s, 1) if offered_s else 0.0,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2) if latencies else None,
    }


def read_bodies(path: Path) -> list[tuple[str, bytes]]:
    out = []
    for line in path.read_bytes().splitlines():
        signature, _, body = line.partition(b"\t")
        out.append((signature.decode(), body))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args()
    result = asyncio.run(
        offer(args.url, read_bodies(args.bodies), args.rate, args.seconds, args.in_flight)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
