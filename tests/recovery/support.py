"""What the recovery tests share: how much they shorten the production timings, killing."""

import os
import signal
import subprocess
from pathlib import Path

# `SIMFLEET_RECOVERY_PRODUCTION=1` runs the tests with the production defaults (minutes): that
# is how the figures in docs/sync.md were measured.
PRODUCTION = os.environ.get("SIMFLEET_RECOVERY_PRODUCTION") == "1"
# Retry delays are this share of the production defaults, lock lifetimes LOCK_SECONDS.
SCALE = 1.0 if PRODUCTION else 0.2
LOCK_SECONDS = 60 if PRODUCTION else 6
RATE = 100.0


def kill(process: subprocess.Popen) -> None:
    """SIGKILL a worker with its work horse (RQ puts the horse in a session of its own)."""
    if process.poll() is None:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
