-- Counts responses that are not 200 (a redirect to the login page would
-- otherwise count as success), stops each thread after MAX_REQUESTS
-- responses, and prints one machine-readable result line.
local max = tonumber(os.getenv("MAX_REQUESTS") or "1000000")
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	n = 0
	bad = 0
end

function response(status, headers, body)
	n = n + 1
	if status ~= 200 then
		bad = bad + 1
	end
	if n >= max then
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local nbad = 0
	for _, t in ipairs(threads) do
		nbad = nbad + t:get("bad")
	end
	io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non200=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, nbad))
end
