"""Helpers for the fault-injection tests: run a command, kill it with SIGKILL at a chosen moment."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time


def kill_when(cmd: list[str], ready, timeout: float = 300) -> bool:
    """Start ``cmd`` and SIGKILL it as soon as ``ready()`` is true. Returns whether it was killed mid-way."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and proc.poll() is None:
            if ready():
                os.kill(proc.pid, signal.SIGKILL)
                return True
            time.sleep(0.01)
        return False
    finally:
        proc.wait()


def count(store, sql: str) -> int:
    """A count from a store another process may be writing (0 while it does not exist or is locked)."""
    try:
        with sqlite3.connect(store, timeout=1) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
