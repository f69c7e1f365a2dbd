"""Running ``python -m bot …`` as an operator would: a real process, a clean environment."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Followthrough setting, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL", "FOLLOWTHROUGH_", "LOG_LEVEL", "PYTEST"))
        and k not in ("HOST", "PORT")
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Finished:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


async def run(
    *args: str,
    cwd: Path,
    env: dict[str, str],
    prefix: tuple[str, ...] = (),
) -> Finished:
    """``python -m bot ARGS`` to the end; ``prefix`` runs it under another command (setpriv)."""
    process = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


def without_file_permission_override() -> tuple[str, ...] | None:
    """A command prefix under which file permissions apply to this process, or None.

    Root ignores a folder's missing write bit; with CAP_DAC_OVERRIDE (and its kin) dropped it
    obeys it like anyone else. Anyone else needs no prefix.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return (setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner")
