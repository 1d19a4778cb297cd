"""wrk driven with a Lua script that counts answers by status (200, 503, other).

wrk's own summary only says "Non-2xx or 3xx responses"; telling shed
requests (503) from other failures needs the script below. Shared by the
overload benchmark and the overload test so both count the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

# One wrk thread (-t1): the counters live in that thread's Lua state.
STATUS_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
ok, shed, other = 0, 0, 0
response = function(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 503 then shed = shed + 1
  else other = other + 1 end
end
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("STATUS %d %d %d\\n", t:get("ok"), t:get("shed"), t:get("other")))
  end
end
"""
_STATUS = re.compile(r"STATUS (\d+) (\d+) (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def status_script(body: str, path: Path) -> Path:
    """Write the counting script for a POST of `body` (JSON text) to `path`."""
    path.write_text(STATUS_LUA.format(body=body))
    return path


def status_counts(out: str) -> dict[str, int] | None:
    """{"ok", "shed", "other", "socket_errors"} from wrk's output; None without the script's line."""
    counts = _STATUS.search(out)
    if counts is None:
        return None
    got = dict(zip(("ok", "shed", "other"), map(int, counts.groups()), strict=True))
    errors = _SOCKET_ERRORS.search(out)
    got["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    return got
