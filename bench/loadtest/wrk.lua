-- Checks every response of a run and prints one machine-readable result
-- line. A 200 counts only if it came from the upstream with what the row
-- expects to have reached it (the upstream echoes it in X-Bench-* headers,
-- see upstream.go): EXPECT_USER ("-" for none), EXPECT_IDENTITY (the four
-- identity headers, joined by "|"), EXPECT_COOKIE (ok: the app's cookie
-- and no gateway cookie; missing: the row sends no cookie), and never an
-- Authorization header. Anything else is counted (non200, wrong_user,
-- wrong_cookie, leaked_auth), and the first few of each are printed as
-- SAMPLE lines. Each thread stops after MAX_REQUESTS responses.
local max = tonumber(os.getenv("MAX_REQUESTS") or "1000000")
local want_user = os.getenv("EXPECT_USER") or "-"
local want_identity = os.getenv("EXPECT_IDENTITY") or "|||"
local want_cookie = os.getenv("EXPECT_COOKIE") or "ok"
local samples_max = 5
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	n = 0
	non200 = 0
	wrong_user = 0
	wrong_cookie = 0
	leaked_auth = 0
	samples = 0
end

local function sample(kind, status, headers, body)
	if samples >= samples_max then
		return
	end
	samples = samples + 1
	local b = string.gsub(string.sub(body or "", 1, 200), "%s+", " ")
	io.write(string.format("SAMPLE %s status=%d retry_after=%s user=%s identity=%s cookie=%s auth=%s body=%s\n",
		kind, status, tostring(headers["Retry-After"]), tostring(headers["X-Bench-User"]),
		tostring(headers["X-Bench-Identity"]), tostring(headers["X-Bench-Cookie"]),
		tostring(headers["X-Bench-Auth"]), b))
end

function response(status, headers, body)
	n = n + 1
	if status ~= 200 then
		non200 = non200 + 1
		sample("non200", status, headers, body)
	else
		if headers["X-Bench-User"] ~= want_user or headers["X-Bench-Identity"] ~= want_identity then
			wrong_user = wrong_user + 1
			sample("wrong_user", status, headers, nil)
		end
		if headers["X-Bench-Cookie"] ~= want_cookie then
			wrong_cookie = wrong_cookie + 1
			sample("wrong_cookie", status, headers, nil)
		end
		if headers["X-Bench-Auth"] ~= "ok" then
			leaked_auth = leaked_auth + 1
			sample("leaked_auth", status, headers, nil)
		end
	end
	if n >= max then
		wrk.thread:stop()
	end
end

function done(summary, latency, requests)
	local t = { non200 = 0, wrong_user = 0, wrong_cookie = 0, leaked_auth = 0 }
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + th:get(k)
		end
	end
	io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d non200=%d wrong_user=%d wrong_cookie=%d leaked_auth=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
		t.non200, t.wrong_user, t.wrong_cookie, t.leaked_auth))
end
