-- wrk script: other tenants' ordinary API calls, `GET /api/monitors` with
-- each tenant's API key in turn, at a fixed rate (bench/prober/pace.lua:
-- PACE_RATE, and its summary line with p50/p99 of the answers).
--   TENANT_KEYS=key1,key2 PACE_RATE=100 wrk -t1 -c16 -d15s -s bench/floods/tenants.lua URL
dofile("bench/prober/pace.lua")

local paced_init = init

function init(args)
  paced_init(args)
  requests, sent_count = {}, 0
  for key in (os.getenv("TENANT_KEYS") or ""):gmatch("[^,]+") do
    table.insert(requests, wrk.format("GET", "/api/monitors", { Authorization = "Bearer " .. key }))
  end
  assert(#requests > 0, "TENANT_KEYS is empty")
end

function request()
  sent_count = sent_count + 1
  return requests[sent_count % #requests + 1]
end
