-- wrk script for POST /v1/classify (bench/serve_vs_fastapi.sh).
--
--   BENCH_BODIES=FILE BENCH_API_KEY=KEY wrk -t2 -c64 -d10s --latency -s bench/classify.lua http://127.0.0.1:PORT/v1/classify
--
-- FILE holds one JSON request body per line (e.g. {"model":"sentiment-en","input":"..."}); each wrk
-- thread sends them in turn, starting at a different line. Every request carries
-- `Authorization: Bearer $BENCH_API_KEY` (when set) and `Content-Type: application/json`.
-- Any response outside 200-299 counts as an error (wrk itself counts only >= 400); the first such
-- status and body of each thread go to stderr. After the run, `done` prints one JSON line on stdout:
--   {"requests":N,"duration_s":S,"requests_per_s":R,"latency_ms":{"p50":..,"p90":..,"p99":..,"max":..},
--    "non2xx":N,"socket_errors":{"connect":..,"read":..,"write":..,"timeout":..},"errors":N}
-- (latency covers every completed request; "errors" = non2xx + all socket errors).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local next_index = 1
non2xx = 0
first_error = nil

function init(args)
  local path = os.getenv("BENCH_BODIES")
  if not path then
    io.stderr:write("classify.lua: set BENCH_BODIES to a file of JSON bodies, one per line\n")
    os.exit(2)
  end
  local headers = { ["Content-Type"] = "application/json" }
  local key = os.getenv("BENCH_API_KEY")
  if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(requests, wrk.format("POST", wrk.path, headers, line))
    end
  end
  if #requests == 0 then
    io.stderr:write("classify.lua: " .. path .. " has no bodies\n")
    os.exit(2)
  end
  next_index = (id or 0) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if not first_error then
      first_error = tostring(status) .. " " .. tostring(body):sub(1, 300)
      io.stderr:write("classify.lua: thread " .. tostring(id) .. " got HTTP " .. first_error .. "\n")
    end
  end
end

function done(summary, latency, _)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local function ms(us) return us / 1000 end
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"requests_per_s":%.2f,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f},' ..
    '"non2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)), ms(latency.max), ms(latency.mean),
    bad, e.connect, e.read, e.write, e.timeout, bad + e.connect + e.read + e.write + e.timeout))
end
