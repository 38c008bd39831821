-- Unit specs of lua/apivideo/time.lua through the public apivideo.parse_time.
local apivideo = require("apivideo")
local time = require("apivideo.time")

local parse = apivideo.parse_time

local function close_to(expected, got, what)
  assert.is_number(got, what)
  assert.is_true(math.abs(got - expected) < 1e-6,
    (what or "") .. ": expected " .. string.format("%.6f", expected) .. ", got " .. string.format("%.6f", got))
end

-- parse must fail with nil and a message that quotes nothing secret but says what was wrong.
local function refused(s)
  local v, err = parse(s)
  assert.is_nil(v, "accepted " .. tostring(s))
  assert.is_string(err, "no message for " .. tostring(s))
  assert.is_true(#err > 0)
  return err
end

describe("apivideo.parse_time", function()
  it("is the function of apivideo.time", function()
    assert.equal(time.parse, apivideo.parse_time)
  end)

  it("gives 0 for the epoch and the documented value for the API's example", function()
    assert.equal(0, parse("1970-01-01T00:00:00Z"))
    close_to(1561376701.109, parse("2019-06-24T11:45:01.109Z"), "2019-06-24T11:45:01.109Z")
  end)

  it("matches known epoch values, before 1970, on leap days and past 2038", function()
    assert.equal(-1, parse("1969-12-31T23:59:59Z"))
    assert.equal(-2208988800, parse("1900-01-01T00:00:00Z"))
    assert.equal(951782400, parse("2000-02-29T00:00:00Z"))
    assert.equal(1582934400, parse("2020-02-29T00:00:00Z"))
    assert.equal(1672531200, parse("2023-01-01T00:00:00Z"))
    assert.equal(2147483647, parse("2038-01-19T03:14:07Z"))
    assert.equal(2147483648, parse("2038-01-19T03:14:08Z"))
    assert.equal(4102444800, parse("2100-01-01T00:00:00Z"))
    assert.equal(951868799, parse("2000-02-29T23:59:59Z"))
  end)

  it("agrees with the C library's gmtime on 3000 timestamps from 1902 to 2200", function()
    local rng_state = 12345
    local function rnd(n) -- small LCG: deterministic, no global random state touched
      rng_state = (rng_state * 1103515245 + 12345) % 2147483648
      return math.floor(rng_state / 256) % n
    end
    local lo, hi = -2145916800, 7258118400 -- 1902-01-01 .. 2200-01-01
    for _ = 1, 3000 do
      local u = (rnd(65536) * 65536 + rnd(65536)) / 4294967296 -- uniform in [0, 1)
      local t = lo + math.floor(u * (hi - lo)) -- whole seconds
      local s = os.date("!%Y-%m-%dT%H:%M:%SZ", t)
      assert.equal(t, parse(s), s)
      local ms = rnd(1000)
      local s2 = os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%03dZ", ms)
      close_to(t + ms / 1000, parse(s2), s2)
    end
  end)

  it("applies +hh:mm, -hh:mm and +hhmm offsets (local time minus offset)", function()
    local utc = parse("2019-06-24T11:45:01.109Z")
    close_to(utc, parse("2019-06-24T13:45:01.109+02:00"), "+02:00")
    close_to(utc, parse("2019-06-24T06:45:01.109-05:00"), "-05:00")
    close_to(utc, parse("2019-06-24T17:15:01.109+05:30"), "+05:30")
    close_to(utc, parse("2019-06-24T13:45:01.109+0200"), "+0200")
    close_to(utc, parse("2019-06-24T11:45:01.109+00:00"), "+00:00")
    close_to(utc, parse("2019-06-24T11:45:01.109-00:00"), "-00:00")
    -- an offset that crosses midnight and a year boundary
    assert.equal(parse("2023-01-01T00:30:00Z"), parse("2022-12-31T23:30:00-01:00"))
  end)

  it("keeps fractions of any length, with millisecond precision at least", function()
    local base = parse("2023-05-06T07:08:09Z")
    close_to(base + 0.5, parse("2023-05-06T07:08:09.5Z"), ".5")
    close_to(base + 0.05, parse("2023-05-06T07:08:09.050Z"), ".050")
    close_to(base + 0.123456, parse("2023-05-06T07:08:09.123456Z"), ".123456")
    close_to(base + 0.999, parse("2023-05-06T07:08:09.999+00:00"), ".999")
    close_to(base, parse("2023-05-06T07:08:09.000Z"), ".000")
  end)

  it("accepts a lower-case 't' and 'z' and a space between date and time", function()
    local v = parse("2019-06-24T11:45:01Z")
    assert.equal(v, parse("2019-06-24t11:45:01z"))
    assert.equal(v, parse("2019-06-24 11:45:01Z"))
  end)

  it("returns nil and a message for non-strings", function()
    for _, v in ipairs({ 0, {}, true }) do refused(v) end
    refused(nil)
  end)

  it("returns nil and a message for text that is not a full timestamp with a zone", function()
    for _, s in ipairs({ "", "garbage", "2019-06-24", "2019-06-24T11:45", "2019-06-24T11:45:01",
      "2019-06-24T11:45:01.109", "19-06-24T11:45:01Z", "2019-6-24T11:45:01Z", "2019-06-24X11:45:01Z",
      "2019-06-24T11:45:01.Z", "2019-06-24T11:45:01,109Z", "2019-06-24T11:45:01.109Zjunk",
      " 2019-06-24T11:45:01Z", "2019-06-24T11:45:01 Z", "2019-06-24T11:45:01+2", "2019-06-24T11:45:01+02:0",
      "2019-06-24T11:45:01+02:00:00", "2019-06-24T11:45:01UTC", "1561376701" }) do
      refused(s)
    end
  end)

  it("returns nil and a message for dates and times out of range", function()
    for _, s in ipairs({ "2019-13-01T00:00:00Z", "2019-00-01T00:00:00Z", "2019-01-00T00:00:00Z",
      "2019-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2019-04-31T00:00:00Z", "2019-01-32T00:00:00Z",
      "2019-06-24T24:00:00Z", "2019-06-24T11:60:00Z", "2019-06-24T11:45:61Z" }) do
      local err = refused(s)
      assert.is_truthy(err:find(s, 1, true), err)
    end
  end)

  -- The days of each date are remembered: a date met before must give the
  -- same instant (checked against the same instant written +00:00), and a
  -- date that does not exist must be refused the second time too.
  it("reads the API's own form as the general path does, dates met twice included", function()
    local seed = 12345
    local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
    for _ = 1, 2000 do
      local s = string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d", 1970 + rnd(80), 1 + rnd(12), 1 + rnd(28),
        rnd(24), rnd(60), rnd(61), rnd(1000))
      assert.equal(parse(s .. "+00:00"), parse(s .. "Z"), s)
      assert.equal(parse(s .. "+00:00"), parse(s .. "Z"), s .. " (its date remembered)")
    end
    for _, s in ipairs({ "2019-02-29T00:00:00.000Z", "2019-06-24T24:00:00.000Z", "2019-06-24T11:60:00.000Z",
      "2019-06-24T11:45:61.000Z" }) do
      for _ = 1, 2 do
        local err = refused(s)
        assert.is_truthy(err:find(s, 1, true), err)
      end
    end
  end)

  -- RFC 3339 time-numoffset: hours 00-23, minutes 00-59.
  it("returns nil and a message for offsets out of range (+24:00, +02:60, +99:99)", function()
    refused("2019-06-24T11:45:01+24:00")
    refused("2019-06-24T11:45:01+02:60")
    refused("2019-06-24T11:45:01.109+99:99")
  end)

  -- ISO 8601 writes an offset as ±hh, ±hhmm or ±hh:mm; api.video's older payloads
  -- use the hour-only form ("2019-06-24T11:45:01.109+00").
  it("accepts every offset form (Z, z, ±hh, ±hhmm, ±hh:mm), with or without a fraction", function()
    local utc = 1561376701 -- 2019-06-24T11:45:01Z
    local zones = {
      { "Z", 0 }, { "z", 0 }, { "+00", 0 }, { "-00", 0 }, { "+0000", 0 }, { "+00:00", 0 },
      { "+02", 7200 }, { "+0200", 7200 }, { "+02:00", 7200 },
      { "-05", -18000 }, { "-0500", -18000 }, { "-05:00", -18000 },
      { "+0530", 19800 }, { "+05:30", 19800 }, { "-0930", -34200 }, { "-09:30", -34200 },
      { "+23:59", 86340 }, { "-2359", -86340 }, { "+14", 50400 },
    }
    for _, z in ipairs(zones) do
      local zone, offset = z[1], z[2]
      local wall = os.date("!%Y-%m-%dT%H:%M:%S", utc + offset) -- the same instant, written in that zone
      close_to(utc, parse(wall .. zone), wall .. zone)
      close_to(utc + 0.109, parse(wall .. ".109" .. zone), wall .. ".109" .. zone)
      close_to(utc + 0.5, parse(wall .. ".5" .. zone), wall .. ".5" .. zone)
    end
    close_to(1561376701.109, parse("2019-06-24T11:45:01.109+00"), "api.video's older form")
  end)

  it("agrees with gmtime for 2000 instants written at random offsets in each form", function()
    local rng_state = 4242
    local function rnd(n)
      rng_state = (rng_state * 1103515245 + 12345) % 2147483648
      return math.floor(rng_state / 256) % n
    end
    for i = 1, 2000 do
      local t = -2145916800 + rnd(65536) * 65536 + rnd(65536) -- 1902 .. 2038
      local minutes = rnd(24 * 60) * (rnd(2) == 0 and 1 or -1) -- -23:59 .. +23:59
      local sign, a = minutes < 0 and "-" or "+", math.abs(minutes)
      local hh, mm = math.floor(a / 60), a % 60
      local zone = string.format(i % 2 == 0 and "%s%02d:%02d" or "%s%02d%02d", sign, hh, mm)
      if mm == 0 and i % 3 == 0 then zone = string.format("%s%02d", sign, hh) end -- hour only
      local s = os.date("!%Y-%m-%dT%H:%M:%S", t + minutes * 60) .. zone
      assert.equal(t, parse(s), s)
    end
  end)

  it("always returns the same number type: a float (math.type on 5.3+)", function()
    for _, s in ipairs({ "1970-01-01T00:00:00Z", "2019-06-24T11:45:01Z", "2019-06-24T11:45:01+00:00",
      "2019-06-24T11:45:01+02", "2019-06-24T11:45:01-0500", "2019-06-24T11:45:01.000Z",
      "2019-06-24T11:45:01.109+00", "1900-01-01T00:00:00Z", "2100-01-01T00:00:00.5-23:59" }) do
      local v = parse(s)
      assert.is_number(v, s)
      if math.type then assert.equal("float", math.type(v), s) end
    end
  end)

  -- Each refusal names its real cause (and quotes the text it refused).
  it("says precisely what is wrong", function()
    local cases = {
      { "2019-06-24T11:45:01", "no time zone" },
      { "2019-06-24T11:45:01.109", "no time zone" },
      { "2019-06-24T11:45:01+2500", "bad UTC offset '+2500'" },
      { "2019-06-24T11:45:01+24:00", "bad UTC offset '+24:00'" },
      { "2019-06-24T11:45:01+02:60", "bad UTC offset '+02:60'" },
      { "2019-06-24T11:45:01.109+99", "bad UTC offset '+99'" },
      { "2019-06-24T11:45:01+2", "bad UTC offset '+2'" },
      { "2019-06-24T11:45:01+02:0", "bad UTC offset '+02:0'" },
      { "2019-06-24T11:45:01+020", "bad UTC offset '+020'" },
      { "2019-06-24T11:45:01+02:00:00", "bad UTC offset '+02:00:00'" },
      { "2019-06-24T11:45:01+02:00x", "bad UTC offset '+02:00x'" },
      { "2019-06-24T11:45:01UTC", "bad time zone 'UTC'" },
      { "2019-06-24T11:45:01 Z", "bad time zone ' Z'" },
      { "2019-06-24T11:45:01.109Zjunk", "'junk' after the time zone" },
      { "2019-06-24T11:45:01.Z", "no digits after the decimal point" },
      { "2019-06-24T11:45:01,109Z", "decimal comma" },
      { "2019-02-29T00:00:00Z", "the date 2019-02-29 does not exist" },
      { "1900-02-29T00:00:00+01", "the date 1900-02-29 does not exist" },
      { "2019-04-31T00:00:00Z", "the date 2019-04-31 does not exist" },
      { "2019-13-01T00:00:00Z", "the date 2019-13-01 does not exist" },
      { "2019-00-10T00:00:00Z", "the date 2019-00-10 does not exist" },
      { "2019-06-24T24:00:00Z", "bad time of day 24:00:00" },
      { "2019-06-24T11:60:00Z", "bad time of day 11:60:00" },
      { "2019-06-24T11:45:61+02", "bad time of day 11:45:61" },
      { "2019-06-24", "a date without a time of day" },
      { "2019-06-24T11:45", "not an RFC 3339 timestamp" },
      { "1561376701", "not an RFC 3339 timestamp" },
      { "", "not an RFC 3339 timestamp" },
    }
    for _, c in ipairs(cases) do
      local err = refused(c[1])
      assert.is_truthy(err:find(c[2], 1, true), "'" .. c[1] .. "' gave: " .. err)
      assert.is_truthy(err:find("'" .. c[1] .. "'", 1, true), "the text is not quoted: " .. err)
    end
    -- the hour-only form is an offset, not a missing zone
    assert.is_nil(refused("2019-06-24T11:45:01+7"):find("no time zone", 1, true))
    assert.is_truthy(refused(12):find("string expected, got number", 1, true))
    assert.is_truthy(refused(nil):find("string expected, got nil", 1, true))
  end)

  it("quotes at most 64 characters of a long text", function()
    local long = "2019-06-24T11:45:01" .. string.rep("x", 5000)
    local err = refused(long)
    assert.is_truthy(err:find("bad time zone", 1, true), err)
    for run in err:gmatch("x+") do assert.is_true(#run <= 64, err) end
    assert.is_true(#err < 300, err)
  end)
end)
