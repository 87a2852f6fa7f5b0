-- wrk script of bench/run.py: sends the requests it is given in turn and counts every
-- answer that is not the one asked for.
--
-- bench/run.py writes a prelude before this file that defines the globals
--   targets      = { {method=, path=, headers={...}, body=, version=, vary=}, ... }  sent in turn
--   expect       = { status=200, page="Lua pattern" or nil, location="plain text" or nil }
-- A target with a `version` gets "&version=<n>" appended to its body, n counting up by
-- one per send: an applicant's next save is based on the version its last save made.
-- A target with `vary` comes from a client address of its own on every send (header
-- X-Forwarded-For 10.a.b.c, for a server behind ProxyFix) and has every "{n}" in its
-- body replaced by the number of the send (a new e-mail address each time): rate limits
-- per client or per address then never answer 429.
--
-- An error is: a status other than expect.status, any HX-Redirect header, or an answer
-- whose body does not match expect.page (or whose Location lacks expect.location).
-- done() prints one line "bench-result name=value ..." that bench/run.py reads.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   answers, wrong_status, hx_redirect, wrong_page = 0, 0, 0, 0
   unexpected = {}  -- count per unexpected status
   turn = 0
   sends = 0  -- of targets with `vary`
   prepared = {}
   for i, target in ipairs(targets) do
      if not target.version and not target.vary then
         prepared[i] = wrk.format(target.method, target.path, target.headers, target.body)
      end
   end
end

function request()
   turn = turn % #targets + 1
   if prepared[turn] then
      return prepared[turn]
   end
   local target = targets[turn]
   local body, headers = target.body, target.headers
   if target.version then
      body = body .. "&version=" .. target.version
      target.version = target.version + 1
   end
   if target.vary then
      sends = sends + 1
      body = string.gsub(body, "{n}", tostring(sends))
      headers = {}
      for name, value in pairs(target.headers) do
         headers[name] = value
      end
      headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(sends / 62500) % 250 + 1,
                                                 math.floor(sends / 250) % 250, sends % 250 + 1)
   end
   return wrk.format(target.method, target.path, headers, body)
end

function right_page(body, location)
   if expect.page and not string.find(body, expect.page) then
      return false
   end
   if expect.location and not (location and string.find(location, expect.location, 1, true)) then
      return false
   end
   return true
end

function response(status, headers, body)
   answers = answers + 1
   local location, redirected = nil, false
   for name, value in pairs(headers) do
      local lower = string.lower(name)
      if lower == "hx-redirect" then
         redirected = true
      elseif lower == "location" then
         location = value
      end
   end
   -- One error per answer, the first that applies.
   if status ~= expect.status then
      wrong_status = wrong_status + 1
      unexpected[status] = (unexpected[status] or 0) + 1
   elseif redirected then
      hx_redirect = hx_redirect + 1
   elseif not right_page(body, location) then
      wrong_page = wrong_page + 1
   end
end

function done(summary, latency, requests)
   local totals = { answers = 0, wrong_status = 0, hx_redirect = 0, wrong_page = 0 }
   local statuses = {}
   for _, thread in ipairs(threads) do
      for name, count in pairs(totals) do
         totals[name] = count + thread:get(name)
      end
      for status, count in pairs(thread:get("unexpected")) do
         statuses[status] = (statuses[status] or 0) + count
      end
   end
   local status_list = {}
   for status, count in pairs(statuses) do
      table.insert(status_list, status .. ":" .. count)
   end
   local errors = summary.errors
   io.write(string.format(
      "bench-result requests=%d duration_us=%d p50_us=%d p99_us=%d socket_errors=%d "
         .. "answers=%d wrong_status=%d hx_redirect=%d wrong_page=%d unexpected=%s\n",
      summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
      errors.connect + errors.read + errors.write + errors.timeout,
      totals.answers, totals.wrong_status, totals.hx_redirect, totals.wrong_page,
      #status_list > 0 and table.concat(status_list, ",") or "-"))
end
