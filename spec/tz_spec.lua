-- apivideo.tz: zones from the system's zoneinfo (TZif read in Lua), fixed
-- offsets, UTC. The oracle of the sweeps is GNU date with TZ= set (the C
-- library's reading of the same files, sharing no code with the module);
-- the DST changes checked by hand are the published ones (Paris: 2023-03-26
-- 01:00Z and 2023-10-29 01:00Z; New York: 2023-03-12 07:00Z and 2023-11-05
-- 06:00Z).
local calendar = require("apivideo.calendar")
local tz = require("apivideo.tz")

local function utc(y, m, d, h, mi)
  return calendar.days_from_civil(y, m, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60
end

-- GNU date's offsets (seconds east) of the times ts in zone name.
local function date_offsets(name, ts)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  for _, t in ipairs(ts) do f:write("@", string.format("%d", t), "\n") end
  f:close()
  local p = assert(io.popen("TZ=" .. name .. " date -f " .. file .. " +%z"))
  local out = {}
  for line in p:lines() do
    local sign, h, m = line:match("^([+-])(%d%d)(%d%d)$")
    out[#out + 1] = (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "-" and -1 or 1)
  end
  p:close()
  os.remove(file)
  return out
end

local function temp_dir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d .. "/Fake"))
  return d
end

describe("apivideo.tz", function()
  it("reads Europe/Paris: CET, CEST from 2023-03-26 01:00Z, CET again from 2023-10-29 01:00Z", function()
    local paris = assert(tz.load("Europe/Paris"))
    local off, abbr = paris:offset_at(utc(2023, 3, 26, 0, 59))
    assert.are.same({ 3600, "CET" }, { off, abbr })
    off, abbr = paris:offset_at(utc(2023, 3, 26, 1, 0))
    assert.are.same({ 7200, "CEST" }, { off, abbr })
    assert.are.equal(7200, (paris:offset_at(utc(2023, 10, 29, 0, 59))))
    assert.are.equal(3600, (paris:offset_at(utc(2023, 10, 29, 1, 0))))
    assert.are.equal("2023-05-01T14:00:00+02:00", paris:stamp(utc(2023, 5, 1, 12)))
    assert.are.equal("Europe/Paris", paris.name)
  end)

  it("agrees with GNU date every 5 hours of 1990-2040 in Paris, New York, Kolkata and UTC", function()
    local ts = {}
    for t = utc(1990, 1, 1), utc(2040, 1, 1), 5 * 3600 + 17 do ts[#ts + 1] = t end
    for _, name in ipairs({ "Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC" }) do
      local zone = assert(tz.load(name))
      local want = date_offsets(name, ts)
      assert.are.equal(#ts, #want)
      local wrong = 0
      for i, t in ipairs(ts) do
        if zone:offset_at(t) ~= want[i] then wrong = wrong + 1 end
      end
      assert.are.equal(0, wrong, name)
    end
  end)

  it("the footer's rule (after the file's last transition) gives the file's own changes", function()
    local f = assert(io.open("/usr/share/zoneinfo/America/New_York", "rb"))
    local zone = assert(tz.from_tzif(f:read("*a"), "America/New_York"))
    f:close()
    assert.is_function(zone.rule)
    for t = utc(2008, 1, 1), utc(2037, 1, 1), 3 * 3600 + 11 do
      local a = zone:offset_at(t)
      local b = zone.rule(t)
      if a ~= b then assert.are.equal(a, b, os.date("!%c", t)) end
    end
    -- and past 2037, where fat and slim files alike have only the rule
    local ny = assert(tz.load("America/New_York"))
    assert.are.equal("2050-07-01T08:00:00-04:00", ny:stamp(utc(2050, 7, 1, 12)))
    assert.are.equal("2050-01-01T07:00:00-05:00", ny:stamp(utc(2050, 1, 1, 12)))
  end)

  it("local midnight of a day in UTC seconds, across both DST days of Paris", function()
    local paris = assert(tz.load("Europe/Paris"))
    assert.are.equal(utc(2023, 3, 25, 23), paris:to_utc(2023, 3, 26, 0, 0, 0))
    assert.are.equal(utc(2023, 3, 26, 22), paris:to_utc(2023, 3, 27, 0, 0, 0)) -- a day of 23 hours
    assert.are.equal(utc(2023, 10, 28, 22), paris:to_utc(2023, 10, 29, 0, 0, 0))
    assert.are.equal(utc(2023, 10, 29, 23), paris:to_utc(2023, 10, 30, 0, 0, 0)) -- 25 hours
    local ny = assert(tz.load("America/New_York"))
    assert.are.equal(utc(2023, 3, 12, 5), ny:to_utc(2023, 3, 12, 0, 0, 0))
    assert.are.equal(utc(2023, 3, 13, 4), ny:to_utc(2023, 3, 13, 0, 0, 0))
  end)

  it("a time that happens twice is the first; one that never happens is read with the offset before", function()
    local paris = assert(tz.load("Europe/Paris"))
    -- 2023-10-29 02:30 happens at 00:30Z (CEST) and 01:30Z (CET)
    assert.are.equal(utc(2023, 10, 29, 0, 30), paris:to_utc(2023, 10, 29, 2, 30, 0))
    -- 2023-03-26 02:30 never happens: read as CET, 01:30Z, which is 03:30 CEST
    local t = paris:to_utc(2023, 3, 26, 2, 30, 0)
    assert.are.equal(utc(2023, 3, 26, 1, 30), t)
    assert.are.equal("2023-03-26T03:30:00+02:00", paris:stamp(t))
    -- every other time of those days goes there and back
    for _, day in ipairs({ { 2023, 3, 26 }, { 2023, 10, 29 } }) do
      for h = 0, 23 do
        local u = paris:to_utc(day[1], day[2], day[3], h, 15, 0)
        local back = paris:stamp(u)
        if h ~= 2 then
          assert.are.equal(string.format("%04d-%02d-%02dT%02d:15:00", day[1], day[2], day[3], h), back:sub(1, 19))
        end
      end
    end
  end)

  it("Asia/Kolkata is +05:30, and fixed offsets and UTC need no file", function()
    local k = assert(tz.load("Asia/Kolkata"))
    assert.are.equal("2023-05-01T17:30:00+05:30", k:stamp(utc(2023, 5, 1, 12)))
    assert.are.equal(utc(2023, 4, 30, 18, 30), k:to_utc(2023, 5, 1, 0, 0, 0))
    local fixed = assert(tz.load("-03:30", "/nonexistent"))
    assert.are.equal(-12600, (fixed:offset_at(0)))
    assert.are.equal("2023-05-01T08:30:00-03:30", fixed:stamp(utc(2023, 5, 1, 12)))
    assert.are.equal(utc(2023, 5, 1, 3, 30), fixed:to_utc(2023, 5, 1, 0, 0, 0))
    assert.are.equal("2023-05-01T12:00:00+14:00", assert(tz.load("+14:00")):stamp(utc(2023, 4, 30, 22)))
    for _, name in ipairs({ "UTC", "Z" }) do
      local u = assert(tz.load(name, "/nonexistent"))
      assert.are.equal("2023-05-01T12:00:00+00:00", u:stamp(utc(2023, 5, 1, 12)))
      assert.are.equal("UTC", u.name)
    end
  end)

  it("refuses offsets out of range or of another shape, quoting them", function()
    for _, bad in ipairs({ "+14:01", "-12:30", "+15:00", "+02:60" }) do
      local z, err = tz.load(bad)
      assert.is_nil(z)
      assert.are.equal("the offset '" .. bad .. "' is out of range (-12:00 to +14:00, minutes 00-59)", err)
    end
    for _, bad in ipairs({ "+2", "+0200", "-5:30" }) do
      local z, err = tz.load(bad)
      assert.is_nil(z)
      assert.are.equal("bad offset '" .. bad .. "' (expected +hh:mm or -hh:mm, such as +05:30)", err)
    end
  end)

  it("refuses paths out of the zoneinfo folder, unknown names and files that are not TZif", function()
    for _, bad in ipairs({ "/etc/passwd", "../../etc/passwd", "Europe/../../etc/passwd" }) do
      local z, err = tz.load(bad)
      assert.is_nil(z)
      assert.matches("^'" .. bad:gsub("%p", "%%%0") .. "' is not a zone name %(.*no absolute path, no '%.%.'%)$", err)
    end
    local z, err = tz.load("Mars/Olympus_Mons")
    assert.is_nil(z)
    assert.matches("^no time zone 'Mars/Olympus_Mons' in /usr/share/zoneinfo ", err)
    assert.is_nil((tz.load("")))
    local dir = temp_dir()
    local f = assert(io.open(dir .. "/Fake/Text", "w"))
    f:write("not a zone at all, but long enough to be a header of forty-four bytes\n")
    f:close()
    z, err = tz.load("Fake/Text", dir)
    assert.is_nil(z)
    assert.are.equal("the time zone file " .. dir .. "/Fake/Text of 'Fake/Text' cannot be read: not a TZif file", err)
    -- a TZif header whose data is cut short
    local real = assert(io.open("/usr/share/zoneinfo/Europe/Paris", "rb"))
    local head = real:read(100)
    real:close()
    f = assert(io.open(dir .. "/Fake/Cut", "wb"))
    f:write(head)
    f:close()
    z, err = tz.load("Fake/Cut", dir)
    assert.is_nil(z)
    assert.matches("cannot be read: truncated$", err)
    -- and TZDIR is where names are looked up
    local r = assert(io.open("/usr/share/zoneinfo/Asia/Kolkata", "rb"))
    f = assert(io.open(dir .. "/Fake/India", "wb"))
    f:write(r:read("*a"))
    r:close()
    f:close()
    assert.are.equal(19800, (assert(tz.load("Fake/India", dir)):offset_at(0)))
    os.execute("rm -rf " .. dir)
  end)
end)
