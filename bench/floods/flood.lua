-- wrk script: a login or signup flood, paced at PACE_RATE requests/s
-- (bench/prober/pace.lua) or, with PACE_RATE=0, as fast as the connections go.
--   FLOOD=login|signup  ACCOUNTS=one|many (login)  IPS=one|many
--   FLOOD_IP=203.0.113.7 (the one address)  VICTIM=victim@flood.example
--   FLOOD_IP_OFFSET=N (where in 198.18.0.0/15 the many addresses start)
-- Addresses are sent as X-Forwarded-For, which the app believes from a
-- loopback peer, as it does from the edge. done() prints one line:
--   sent=N rate=R 429=N retry_after=N codes=code:N,... statuses=status:N,...
-- where retry_after counts the 429s that carried a Retry-After header.
dofile("bench/prober/pace.lua")
if tonumber(os.getenv("PACE_RATE") or "0") == 0 then
  delay = nil
end

local threads = {}
local paced_setup = setup

function setup(thread)
  paced_setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local paced_init = init

function init(args)
  if tonumber(os.getenv("PACE_RATE") or "0") > 0 then
    paced_init(args)
  end
  kind = os.getenv("FLOOD") or "login"
  many_accounts = os.getenv("ACCOUNTS") == "many"
  many_ips = os.getenv("IPS") == "many"
  one_ip = os.getenv("FLOOD_IP") or "203.0.113.7"
  victim = os.getenv("VICTIM") or "victim@flood.example"
  -- Unique per run and thread, so signups never collide with an earlier run.
  tag = string.format("%x%d", os.time() % 1000000, id)
  ip_offset = tonumber(os.getenv("FLOOD_IP_OFFSET") or "0")
  n = 0
  statuses, codes, limited, retry_after = {}, {}, 0, 0
end

local function address()
  if not many_ips then
    return one_ip
  end
  -- 198.18.0.0/15, the benchmarking range: 131,072 addresses.
  local i = (ip_offset + n * 7919) % 131072
  return string.format("198.%d.%d.%d", 18 + math.floor(i / 65536), math.floor(i / 256) % 256, i % 256)
end

function request()
  n = n + 1
  local body
  if kind == "signup" then
    local slug = string.format("f%s-%d", tag, n)
    body = string.format(
      '{"organization":"Flood %d","slug":"%s","email":"owner@%s.example","password":"tangerine-umbrella-42"}',
      n, slug, slug)
  else
    local email = many_accounts and string.format("u%s-%d@flood.example", tag, n) or victim
    body = string.format('{"email":"%s","password":"wrong-password-%d"}', email, n)
  end
  return wrk.format("POST", "/api/auth/" .. kind, {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = address(),
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local code = body and body:match('"code"%s*:%s*"([^"]+)"') or "-"
  codes[code] = (codes[code] or 0) + 1
  if status == 429 then
    limited = limited + 1
    if headers["Retry-After"] or headers["retry-after"] then
      retry_after = retry_after + 1
    end
  end
end

-- "k:v,k:v" of a table, keys sorted.
local function tally(t)
  local keys, out = {}, {}
  for k in pairs(t) do
    table.insert(keys, k)
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    table.insert(out, tostring(k) .. ":" .. t[k])
  end
  return #out > 0 and table.concat(out, ",") or "-"
end

local function add(into, from)
  for k, v in pairs(from) do
    into[k] = (into[k] or 0) + v
  end
end

function done(summary, latency, requests)
  local all_statuses, all_codes, sum_limited, sum_retry = {}, {}, 0, 0
  for _, thread in ipairs(threads) do
    add(all_statuses, thread:get("statuses"))
    add(all_codes, thread:get("codes"))
    sum_limited = sum_limited + thread:get("limited")
    sum_retry = sum_retry + thread:get("retry_after")
  end
  io.write(string.format("sent=%d rate=%.1f 429=%d retry_after=%d codes=%s statuses=%s p99_ms=%.2f\n",
    summary.requests, summary.requests / (summary.duration / 1e6), sum_limited, sum_retry,
    tally(all_codes), tally(all_statuses), latency:percentile(99) / 1000))
end
