-- wrk script for Benchmarks/serve_load.sh: each request POSTs one sentence (cycling through SENTENCES_FILE, one per
-- line) as {"input": sentence} to ROUTE (default /v1/embeddings; Infinity's is /embeddings); done() prints one JSON
-- line with throughput, latency percentiles and every error kind.
-- usage: wrk -s serve_load.lua URL -- SENTENCES_FILE [ROUTE]
local sentences, i, route = {}, 0, "/v1/embeddings"

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then sentences[#sentences + 1] = line end
  end
  i = math.random(#sentences)
  if args[2] then route = args[2] end
end

local function json_string(s)
  s = s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('[%c]', function(c) return string.format('\\u%04x', c:byte()) end)
  return '"' .. s .. '"'
end

function request()
  i = i % #sentences + 1
  return wrk.format("POST", route, { ["Content-Type"] = "application/json" },
                    '{"input":' .. json_string(sentences[i]) .. '}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "requests_per_second": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
