-- The wrk script bench/load.sh drives every endpoint with. The request is built once
-- per thread from environment variables (wrk then reuses it: no Lua per request):
--   METHOD     GET (default) or POST
--   BODY_FILE  a file whose bytes are the body, sent as application/json
--   API_KEY    sent as "Authorization: Bearer <key>"
-- done() prints one line, starting with RESULT, that load.sh turns into its table.
-- wrk's status count covers responses >= 400 (the same counter as its own
-- "Non-2xx or 3xx responses" line); load.sh checks each endpoint's exact status first.

wrk.method = os.getenv("METHOD") or "GET"

local body_file = os.getenv("BODY_FILE")
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
end

local key = os.getenv("API_KEY")
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d bad_status=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
