-- apivideo.core's watcher (src/wait.c, multi:watcher / watch_accept / arm / wake): the thread that
-- writes one byte to an event loop's connection when a socket of the multi is ready, when the armed
-- deadline comes, or at once on wake(). The loop here is a plain luasocket Unix-socket client;
-- in nginx it is the hub's pump (spec/openresty_spec.lua counts its waits).
local core = require("apivideo.core")
local socket = require("socket")
local unix = require("socket.unix")
local S = require("spec.support.standin")
local D = require("spec.support.drive")
local sh = require("spec.support.shell")

local PAGE = "/analytics/videos/vi250?period=2023&pageSize=3"

describe("apivideo.core: the watcher", function()
  local srv
  setup(function() srv = S.shared() end)
  before_each(function() srv:idle_reset() end)

  -- A multi with its watcher and a connection to it: m, conn.
  local function watched()
    local m = core.multi()
    local path = m:watcher()
    local conn = assert(unix.stream())
    assert(conn:connect(path))
    assert.is_true(m:watch_accept())
    return m, conn, path
  end

  -- Waits at most limit_s for the watcher's byte: the seconds it took, or nil.
  local function byte_within(conn, limit_s)
    conn:settimeout(limit_s)
    local t0 = socket.gettime()
    local b = conn:receive(1)
    return b and socket.gettime() - t0 or nil
  end

  it("listens on a Unix socket of its own, takes the loop's connection, refuses to take none", function()
    local m = core.multi()
    local path = m:watcher()
    assert.matches("/apivideo%-%d+%-%d+%-%x+%.sock$", path)
    assert.are.equal(path, m:watcher()) -- one watcher per multi
    local ok, err = m:watch_accept()
    assert.is_nil(ok)
    assert.are.equal("nobody connected", err)
    m:close()
    assert.is_false(sh.exists(path)) -- closing removes it
  end)

  it("writes the byte when a socket is ready, long before the deadline: one transfer needs few wakes", function()
    srv:config({ latency_ms = 300 })
    local m, conn = watched()
    local t = m:add({ url = srv.url .. PAGE, headers = { D.AUTH } })
    local wakes, t0 = 0, socket.gettime()
    m:perform(0)
    while t:state() == "running" do
      m:arm(10000)
      assert.is_number(byte_within(conn, 5), "no byte within 5 s (the deadline is 10 s)")
      wakes = wakes + 1
      m:perform(0)
    end
    local took = socket.gettime() - t0
    assert.are.equal("done", t:state())
    assert.are.equal(200, assert(t:result()).status)
    assert.is_true(took >= 0.29 and took < 2, "took " .. took .. " s")
    -- connect, send, the answer, (a few for libcurl's own timers): never one per millisecond
    assert.is_true(wakes <= 10, wakes .. " wakes")
    m:close()
    conn:close()
  end)

  it("writes the byte at the armed deadline when nothing is ready, at once on wake()", function()
    local m, conn = watched()
    m:arm(150)
    local took = byte_within(conn, 3)
    assert.is_number(took)
    assert.is_true(took >= 0.14 and took < 1, "took " .. tostring(took))
    m:arm(10000)
    m:wake()
    took = byte_within(conn, 1)
    assert.is_number(took)
    assert.is_true(took < 0.2, "took " .. tostring(took))
    -- not armed: nothing comes
    assert.is_nil(byte_within(conn, 0.2))
    m:close()
    conn:close()
  end)

  it("a new connection replaces the last one; close joins the thread and removes the socket", function()
    local m, first, path = watched()
    local second = assert(unix.stream())
    assert(second:connect(path))
    assert.is_true(m:watch_accept())
    m:arm(50)
    assert.is_number(byte_within(second, 2))
    assert.is_nil(byte_within(first, 0.1))
    m:close()
    m:close() -- idempotent
    assert.is_false(sh.exists(path))
    -- the thread's end of the connection is closed
    second:settimeout(1)
    local _, err = second:receive(1)
    assert.are.equal("closed", err)
    first:close()
    second:close()
  end)
end)
