"""Benchmark: 50 concurrent signed `/decision new` requests against the real server.

Followthrough (``python -m bot serve``) is measured beside two reference apps on the same
uvicorn + Starlette + Bolt stack (bench/reference_apps.py): ``bare`` only acks, ``minimal`` does
one transaction (next number, one insert) before the ack. Each server runs in its own process
on a fresh database; the fake Slack and the load run in this process.

    .venv/bin/python -m bench.bench_commands --engine sqlite --requests 2000

Requests go in bursts of 50 at once. Prints p50, p99, requests per second (within bursts) and
the server's CPU time per request for each app, and Followthrough's ratios to ``minimal``.
``--apps`` runs a subset; ``--profile DIR`` samples each server with py-spy (install it
yourself) into raw stack files for a flame graph. ``followthrough-noindex`` is Followthrough on
a database without the search index's write path (SQLite: no FTS5 triggers; PostgreSQL: no
generated ``search_doc`` column and GIN index), for the index's extra cost per `/decision new`:

    .venv/bin/python -m bench.bench_commands --apps followthrough,followthrough-noindex
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret-0123456789"
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class LightResponse:
    status_code: int
    text: str


class LightClient:
    """The one method SlackDriver needs, over aiohttp: a lighter load generator than httpx, so
    the client process takes less of the two cores the server shares with it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> LightResponse:
        async with self._session.post(path, data=content, headers=headers) as response:
            return LightResponse(response.status, await response.text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fresh_database(engine: str, name: str, folder: Path) -> str:
    if engine == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / (name + '.db')}"
    else:
        import asyncpg

        conn = await asyncpg.connect(PG_SERVER)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        url = (
            PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + f"/{name}"
        )
    await asyncio.to_thread(upgrade, url)
    return url


async def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1200):  # up to a minute: a busy machine starts the server slowly
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("server did not become healthy")


async def measure(
    port: int,
    fake: FakeSlack,
    requests: int,
    concurrency: int,
    *,
    expect_ref: bool,
    server_pid: int,
    settle: float = 0.5,
    show_bursts: bool = False,
) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{port}", connector=connector
    ) as session:
        http = LightClient(session)
        driver = SlackDriver(http, signing_secret=SECRET, response_url_for=fake.response_url)  # type: ignore[arg-type]

        async def one(i: int) -> float:
            start = time.perf_counter()
            response = await driver.command(
                "/decision", f"new Benchmark item {i}", user_id="U1", channel_id="C1"
            )
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or (expect_ref and "D-" not in response.text):
                raise RuntimeError(f"bad answer: {response.status_code} {response.text[:200]}")
            return elapsed

        for i in range(concurrency):  # warm-up: connections, auth.test, first-contact writes
            await one(-i)
        latencies: list[float] = []
        busy = 0.0
        cpu_before = cpu_seconds(server_pid)
        # Bursts of `concurrency` simultaneous requests, as a channel full of people would send
        # them; between bursts the server finishes its post-ack work (channel posts).
        for wave in range(0, requests, concurrency):
            size = min(concurrency, requests - wave)
            started = time.perf_counter()
            got = sorted(await asyncio.gather(*(one(wave + i) for i in range(size))))
            if show_bursts:
                spread = " ".join(f"{x * 1000:.0f}" for x in got[:: max(1, size // 8)])
                print(f"burst {wave // concurrency + 1}: ms {spread} … max {got[-1] * 1000:.0f}")
            latencies += got
            busy += time.perf_counter() - started
            await asyncio.sleep(settle)
        cpu = cpu_seconds(server_pid) - cpu_before
        latencies.sort()
        wall = busy
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "rps": requests / wall,
        "cpu_ms": cpu / requests * 1000,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the server process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SEARCH_WRITE_PATH = {
    "sqlite": [
        "DROP TRIGGER decisions_fts_insert",
        "DROP TRIGGER decisions_fts_update",
        "DROP TRIGGER decisions_fts_delete",
    ],
    "postgres": [
        "DROP INDEX ix_decisions_search",
        "ALTER TABLE decisions DROP COLUMN search_doc",
    ],
}


async def drop_search_write_path(url: str, engine: str) -> None:
    """Take away what keeps the search index current on writes (only for this comparison)."""
    database = Database(url)
    try:
        async with database.engine.begin() as conn:
            for statement in SEARCH_WRITE_PATH[engine]:
                await conn.exec_driver_sql(statement)
    finally:
        await database.dispose()


async def run_one(
    kind: str,
    engine: str,
    fake: FakeSlack,
    folder: Path,
    requests: int,
    concurrency: int,
    profile: Path | None = None,
    show_bursts: bool = False,
) -> dict[str, float]:
    url = await fresh_database(engine, f"followthrough_bench_{kind.replace('-', '_')}", folder)
    if kind == "followthrough-noindex":
        await drop_search_write_path(url, engine)
    port = free_port()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    for name in (
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "FOLLOWTHROUGH_CONFIG",
    ):
        env.pop(name, None)
    argv = (
        [sys.executable, "-m", "bot", "serve"]
        if kind.startswith("followthrough")
        else [sys.executable, "-m", "bench.reference_apps", kind, str(port)]
    )
    if profile is not None:  # sample the server with py-spy (installed separately)
        out = profile / f"{kind}-{engine}.txt"
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        argv = [py_spy, "record", "-r", "250", "-f", "raw", "-o", str(out), "--", *argv]
    process = subprocess.Popen(argv, cwd=folder, env={**env, "PYTHONPATH": str(ROOT)})  # noqa: ASYNC220
    try:
        await wait_healthy(port, process)
        server_pid = child_pid(process.pid) if profile is not None else process.pid
        return await measure(
            port,
            fake,
            requests,
            concurrency,
            expect_ref=kind != "bare",
            server_pid=server_pid,
            show_bursts=show_bursts,
        )
    finally:
        stop(process, profiled=profile is not None)


def child_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def stop(process: subprocess.Popen[bytes], *, profiled: bool) -> None:
    if profiled:  # stop the server under py-spy; py-spy then writes its samples
        subprocess.run(["pkill", "-TERM", "-P", str(process.pid)], check=False)
    else:
        process.terminate()
    process.wait(timeout=20)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--apps", default="bare,minimal,followthrough", help="comma-separated subset to run"
    )
    parser.add_argument(
        "--show-bursts", action="store_true", help="print each burst's latencies as it ends"
    )
    parser.add_argument(
        "--profile", type=Path, help="folder for py-spy samples of each server (raw format)"
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack(team_id="T1") as fake:
            fake.add_user("U1", name="ana", tz="Europe/Berlin")
            fake.add_channel("C1", name="general")
            for kind in args.apps.split(","):
                results[kind] = await run_one(
                    kind,
                    args.engine,
                    fake,
                    Path(tmp),
                    args.requests,
                    args.concurrency,
                    args.profile.resolve() if args.profile else None,
                    args.show_bursts,
                )
                fake.reset()
    print(
        f"engine={args.engine} requests={args.requests} concurrency={args.concurrency} "
        f"machine={platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}"
    )
    print(f"{'app':<14}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'CPU ms/req':>12}")
    for kind, r in results.items():
        print(
            f"{kind:<14}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['rps']:>10.1f}"
            f"{r['cpu_ms']:>12.2f}"
        )
    if "followthrough" in results and "followthrough-noindex" in results:
        full, bare = results["followthrough"], results["followthrough-noindex"]
        print(
            f"search index's write cost: p99 x{full['p99_ms'] / bare['p99_ms']:.2f}, "
            f"p50 x{full['p50_ms'] / bare['p50_ms']:.2f}, "
            f"CPU x{full['cpu_ms'] / bare['cpu_ms']:.2f}"
        )
    if "followthrough" not in results or "minimal" not in results:
        return
    full, floor = results["followthrough"], results["minimal"]
    print(
        f"followthrough/minimal: p99 x{full['p99_ms'] / floor['p99_ms']:.2f}, "
        f"p50 x{full['p50_ms'] / floor['p50_ms']:.2f}, rps x{full['rps'] / floor['rps']:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
