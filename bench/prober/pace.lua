-- wrk script: GET PACE_PATH at a fixed rate (PACE_RATE requests/s over all
-- threads), the way Prometheus scrapes: each request has a slot on a fixed
-- schedule and waits for it, so the rate holds whatever the latency, as long
-- as a connection is free (wrk's own `-c`); a request that finds no free
-- connection at its slot goes out late and is counted as such.
--
--   PACE_RATE=167 PACE_PATH='/probe?...' PACE_OK='probe_success 1' \
--     wrk -t1 -c64 -d60s -s bench/prober/pace.lua http://127.0.0.1:19115
--
-- done() prints one line:
--   sent=N ok=N failed=N rate=R late_10ms=N late_max_ms=X p50_ms=X p99_ms=X
-- where ok counts 2xx answers whose body holds PACE_OK (any 2xx when unset),
-- and late_10ms the requests that left more than 10 ms after their slot.
-- PACE_HEADER ("Name: value") adds one request header; with wrk's `-t N`
-- set PACE_THREADS=N too, so each thread paces its share.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } pace_timespec;
int clock_gettime(int clock, pace_timespec *ts);
]])
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("pace_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local rate = tonumber(os.getenv("PACE_RATE") or "")
  assert(rate and rate > 0, "PACE_RATE must be a positive number")
  -- Each thread paces its share of the total rate.
  interval = 1000 * tonumber(os.getenv("PACE_THREADS") or "1") / rate
  ok_marker = os.getenv("PACE_OK")
  local headers = {}
  local extra = os.getenv("PACE_HEADER")
  if extra then
    local name, value = extra:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  req = wrk.format("GET", os.getenv("PACE_PATH") or "/", headers)
  start, slot_index = nil, 0
  ok, failed, late, late_max = 0, 0, 0, 0
end

function delay()
  local now = now_ms()
  start = start or now
  local slot = start + slot_index * interval
  slot_index = slot_index + 1
  local wait = slot - now
  if wait < -10 then
    late = late + 1
  end
  if -wait > late_max then
    late_max = -wait
  end
  -- wrk sleeps whole milliseconds; the schedule stays exact on average.
  return math.max(0, math.floor(wait + 0.5))
end

function request()
  return req
end

function response(status, headers, body)
  local good = status >= 200 and status < 300
  if good and ok_marker then
    good = body ~= nil and body:find(ok_marker, 1, true) ~= nil
  end
  if good then
    ok = ok + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local sum = { ok = 0, failed = 0, late = 0, late_max = 0 }
  for _, thread in ipairs(threads) do
    sum.ok = sum.ok + thread:get("ok")
    sum.failed = sum.failed + thread:get("failed")
    sum.late = sum.late + thread:get("late")
    sum.late_max = math.max(sum.late_max, thread:get("late_max"))
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "sent=%d ok=%d failed=%d rate=%.1f late_10ms=%d late_max_ms=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, sum.ok, sum.failed, summary.requests / seconds, sum.late, sum.late_max,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
