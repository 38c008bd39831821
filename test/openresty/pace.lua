-- wrk script for the /ping probe: each connection waits 1 ms before its next
-- request (about 4000 requests/s on 4 connections instead of all the CPU wrk
-- can burn). The probe then measures how long the worker keeps a request
-- waiting, not how a 2-CPU box shares itself between wrk and nginx; a worker
-- that blocks is still sampled every millisecond by each connection.
function delay() -- luacheck: ignore 111 (wrk calls this global)
  return 1
end
