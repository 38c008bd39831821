-- Unit specs of lua/apivideo/check.lua: argument checks that raise before anything is sent.
local check = require("apivideo.check")
local V = require("spec.support.compat")
local expect = require("spec.support.expect")
local raised = expect.raised

local FN = "analytics:list_video_sessions"

local function contains(s, sub)
  return s:find(sub, 1, true) ~= nil
end

local function period_ok(p)
  return pcall(check.period, FN, p)
end

-- ISO weeks of year y from the C library (strftime %V of 28 December, which
-- is always in the last ISO week), independent of check.lua's arithmetic.
local function libc_iso_weeks(y)
  local t = os.time({ year = y, month = 12, day = 28, hour = 12 })
  return tonumber(os.date("%V", t))
end

-- Days in month m of year y from the C library: the day before the 1st of the next month.
local function libc_days_in_month(y, m)
  local t = os.time({ year = m == 12 and y + 1 or y, month = m == 12 and 1 or m + 1, day = 1, hour = 12 })
  return tonumber(os.date("*t", t - 86400).day)
end

describe("apivideo.check", function()
  describe("fail", function()
    it("raises an argument error { fn, arg, reason } whose text is '<fn>: bad argument '<arg>' (<reason>)'", function()
      local e = expect.argument_error(check.fail, FN, "period", "something wrong")
      assert.are.same({ "argument", FN, "period", "something wrong" }, { e.kind, e.fn, e.arg, e.reason })
      assert.is_nil(e.where) -- no level given: no position
      assert.are.equal(FN .. ": bad argument 'period' (something wrong)", tostring(e))
    end)

    it("is positioned at the level it is given, counted as error() counts", function()
      local function api() check.fail(FN, "x", "y", 2) end -- level 2: api's caller
      local line
      local ok, e = pcall(function()
        line = debug.getinfo(1, "l").currentline + 1
        api()
      end)
      assert.is_false(ok)
      assert.matches("check_spec%.lua:" .. line .. "$", e.where)
      assert.matches("^[^\n]*check_spec%.lua:" .. line .. ": " .. FN:gsub("%p", "%%%0") .. ": bad argument 'x' %(y%)$",
        tostring(e))
    end)
  end)

  describe("checked", function()
    it("positions an argument error raised by the checks at the public function's caller", function()
      local function public(v)
        local id = check.checked(2, check.id, FN, "video_id", v) -- (a tail call would lose public's frame)
        return id
      end
      local line
      local ok, e = pcall(function()
        line = debug.getinfo(1, "l").currentline + 1
        local r = public("") -- not a tail call: this line is the position
        return r
      end)
      assert.is_false(ok)
      assert.matches("check_spec%.lua:" .. line .. "$", e.where)
      assert.are.equal("vi1", public("vi1"))
    end)

    it("lets any other error through unchanged", function()
      local ok, e = pcall(check.checked, 2, function() error("plain", 0) end)
      assert.is_false(ok)
      assert.are.equal("plain", e)
    end)
  end)

  describe("id", function()
    it("returns a non-empty string id unchanged", function()
      assert.equal("vi123", check.id(FN, "video_id", "vi123"))
    end)

    it("raises on an empty string, naming function and argument", function()
      local err = raised(check.id, FN, "video_id", "")
      assert.is_true(contains(err, FN .. ": bad argument 'video_id' (empty string)"), err)
    end)

    it("raises on non-strings, naming the type it got", function()
      for _, case in ipairs({ { nil, "nil" }, { 42, "number" }, { {}, "table" }, { true, "boolean" } }) do
        local err = raised(check.id, FN, "session_id", case[1])
        assert.is_true(contains(err, "bad argument 'session_id' (string expected, got " .. case[2] .. ")"), err)
      end
    end)
  end)

  describe("integer", function()
    it("returns integers within the range as Lua integers (5.3+; integral numbers elsewhere)", function()
      local v = check.integer(FN, "page_size", 100, 1, 100)
      assert.equal(100, v)
      assert.equal(V.INTEGER, V.math_type(v))
      assert.is_true(V.is_integer(v))
      assert.equal(1, check.integer(FN, "page_size", 1, 1, 100))
    end)

    it("accepts a float without fraction and returns it as an integer (5.3+; the same number elsewhere)", function()
      local v = check.integer(FN, "current_page", 7.0, 1)
      assert.equal(7, v)
      assert.equal(V.INTEGER, V.math_type(v))
      assert.is_true(V.is_integer(v))
    end)

    it("raises on fractions, NaN, infinities and non-numbers", function()
      for _, v in ipairs({ 1.5, 0 / 0, math.huge, -math.huge, "5", true, {} }) do
        local err = raised(check.integer, FN, "page_size", v, 1, 100)
        assert.is_true(contains(err, FN .. ": bad argument 'page_size' ("), err)
      end
      local err = raised(check.integer, FN, "page_size", nil, 1, 100)
      assert.is_true(contains(err, "integer expected, got nil"), err)
      err = raised(check.integer, FN, "page_size", 2.5, 1, 100)
      assert.is_true(contains(err, "integer expected, got number 2.5"), err)
    end)

    it("raises below min and above max, giving the range", function()
      local err = raised(check.integer, FN, "page_size", 0, 1, 100)
      assert.is_true(contains(err, "bad argument 'page_size' (1..100 expected, got 0)"), err)
      err = raised(check.integer, FN, "page_size", 101, 1, 100)
      assert.is_true(contains(err, "(1..100 expected, got 101)"), err)
    end)

    it("with only a minimum, accepts large values and says '>= min' below it", function()
      -- math.maxinteger on 5.3+, 2^53 where numbers are doubles
      assert.equal(V.maxinteger, check.integer(FN, "current_page", V.maxinteger, 1))
      local err = raised(check.integer, FN, "current_page", -3, 1)
      assert.is_true(contains(err, "bad argument 'current_page' (>= 1 expected, got -3)"), err)
    end)
  end)

  describe("options", function()
    local allowed = { period = true, page_size = true, current_page = true }

    it("turns nil into an empty table", function()
      local o = check.options(FN, "options", nil, allowed)
      assert.same({}, o)
    end)

    it("returns the same table when every key is allowed", function()
      local o = { period = "2023", page_size = 5 }
      assert.equal(o, check.options(FN, "options", o, allowed))
    end)

    it("raises on a non-table, naming the argument and the type", function()
      local err = raised(check.options, FN, "options", "period=2023", allowed)
      assert.is_true(contains(err, FN .. ": bad argument 'options' (table expected, got string)"), err)
    end)

    it("raises on an unknown key such as the typo 'pagesize', listing the allowed names sorted", function()
      local err = raised(check.options, FN, "options", { period = "2023", pagesize = 10 }, allowed)
      assert.is_true(contains(err, FN .. ": unknown option 'pagesize' in 'options'"), err)
      assert.is_true(contains(err, "(allowed: current_page, page_size, period)"), err)
    end)

    it("raises on non-string keys (an array part is not an option)", function()
      local err = raised(check.options, FN, "options", { "2023" }, allowed)
      assert.is_true(contains(err, "unknown option '1'"), err)
    end)
  end)

  describe("period", function()
    it("accepts the five formats and returns the period unchanged", function()
      for _, p in ipairs({ "2018", "2018-01", "2018-12", "2018-W01", "2018-W52", "2018-01-01", "2018-12-31",
        "2018-01-01/2018-01-15" }) do
        assert.equal(p, check.period(FN, p))
      end
    end)

    it("accepts W53 exactly in the years that have 53 ISO weeks (checked against strftime %V)", function()
      local long_years = 0
      for y = 1990, 2060 do
        local weeks = libc_iso_weeks(y)
        assert.is_true(weeks == 52 or weeks == 53)
        if weeks == 53 then long_years = long_years + 1 end
        assert.equal(weeks == 53, (period_ok(("%04d-W53"):format(y))), "year " .. y)
        assert.is_true((period_ok(("%04d-W52"):format(y))), "year " .. y)
        assert.is_false((period_ok(("%04d-W54"):format(y))), "year " .. y)
        assert.is_false((period_ok(("%04d-W00"):format(y))), "year " .. y)
      end
      assert.is_true(long_years >= 10) -- 2004, 2009, 2015, 2020, 2026, ... are among them
      assert.is_true((period_ok("2020-W53")))
      assert.is_true((period_ok("2026-W53")))
      assert.is_false((period_ok("2021-W53")))
    end)

    it("accepts exactly the real days of every month (checked against the C library), leap days included", function()
      for _, y in ipairs({ 1900, 2000, 2019, 2020, 2023, 2024, 2100 }) do
        for m = 1, 12 do
          local last = libc_days_in_month(y, m)
          assert.is_true((period_ok(("%04d-%02d-%02d"):format(y, m, last))), y .. "-" .. m .. "-" .. last)
          assert.is_false((period_ok(("%04d-%02d-%02d"):format(y, m, last + 1))), y .. "-" .. m .. "-" .. last + 1)
          assert.is_false((period_ok(("%04d-%02d-00"):format(y, m))))
        end
      end
      assert.is_true((period_ok("2020-02-29")))
      assert.is_true((period_ok("2000-02-29")))
      assert.is_false((period_ok("2019-02-29")))
      assert.is_false((period_ok("1900-02-29")))
      assert.is_false((period_ok("2100-02-29")))
      assert.is_false((period_ok("2018-04-31")))
      assert.is_false((period_ok("2018-01-32")))
    end)

    it("refuses months 00 and 13 in every format that has a month", function()
      for _, p in ipairs({ "2018-00", "2018-13", "2018-00-10", "2018-13-01",
        "2018-13-01/2018-13-02", "2018-01-01/2018-13-01" }) do
        local err = raised(check.period, FN, p)
        assert.is_true(contains(err, FN .. ": bad argument 'period' ("), err)
        assert.is_true(contains(err, "got '" .. p .. "'"), err)
      end
    end)

    it("says a date, month or week of the right shape does not exist, rather than blaming the format", function()
      local cases = {
        { "2023-02-30", "the date 2023-02-30 does not exist: February 2023 has 28 days" },
        { "2024-02-30", "the date 2024-02-30 does not exist: February 2024 has 29 days" },
        { "2023-04-31", "the date 2023-04-31 does not exist: April 2023 has 30 days" },
        { "2023-01-00", "the date 2023-01-00 does not exist: January 2023 has 31 days" },
        { "2023-13", "there is no month 13 (01 to 12)" },
        { "2023-13-01", "there is no month 13 (01 to 12)" },
        { "2021-W53", "there is no week 53: 2021 has 52 ISO weeks" },
        { "2023-01-01/2023-02-29", "the date 2023-02-29 does not exist: February 2023 has 28 days" },
      }
      for _, case in ipairs(cases) do
        local err = raised(check.period, FN, case[1])
        assert.is_true(contains(err, FN .. ": bad argument 'period' (" .. case[2] .. "; got '" .. case[1] .. "')"),
          err)
        assert.is_false(contains(err, "expected"), err)
      end
    end)

    it("date() gives the reason a date of the right shape does not exist", function()
      assert.same({ nil, "the date 2023-02-30 does not exist: February 2023 has 28 days" },
        { check.date("2023-02-30") })
      assert.same({ nil, "there is no month 00 (01 to 12)" }, { check.date("2023-00-10") })
      assert.same({}, { check.date("2023-2-3") })
    end)

    it("refuses leap days of non-leap years inside a range", function()
      assert.is_true((period_ok("2020-02-28/2020-02-29")))
      assert.is_false((period_ok("2019-02-28/2019-02-29")))
      assert.is_false((period_ok("2019-02-29/2019-03-01")))
    end)

    it("accepts a one-day range and refuses a reversed one with its own message", function()
      assert.is_true((period_ok("2018-01-15/2018-01-15")))
      assert.is_true((period_ok("2018-12-31/2019-01-01")))
      local err = raised(check.period, FN, "2018-01-15/2018-01-01")
      assert.is_true(contains(err, "(range '2018-01-15/2018-01-01' ends before it starts)"), err)
      err = raised(check.period, FN, "2019-01-01/2018-12-31")
      assert.is_true(contains(err, "ends before it starts"), err)
    end)

    it("refuses everything outside the five formats", function()
      for _, p in ipairs({ "", "18", "2018-1", "2018-1-01", "2018-01-1", "2018-W1", "2018-w01", "2018W01",
        "2018-W001", " 2018", "2018 ", "2018/01", "2018-01-01T00:00:00Z", "2018-01/2018-02", "2018/2019",
        "2018-01-01/", "/2018-01-01", "2018-01-01/2018-01-02/2018-01-03", "2018-01-01..2018-01-02",
        "2018-01-01 / 2018-01-02", "２０１８", "abcd", "last_month" }) do
        local err = raised(check.period, FN, p)
        assert.is_true(contains(err, "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD expected"), err)
      end
    end)

    it("refuses non-strings, naming the type", function()
      for _, case in ipairs({ { 2018, "number" }, { nil, "nil" }, { {}, "table" } }) do
        local err = raised(check.period, FN, case[1])
        assert.is_true(contains(err, FN .. ": bad argument 'period' ("), err)
        assert.is_true(contains(err, "got " .. case[2] .. ")"), err)
      end
    end)
  end)

  describe("date", function()
    it("returns year, month and day of a real date, nil otherwise", function()
      local y, m, d = check.date("2024-02-29")
      assert.same({ 2024, 2, 29 }, { y, m, d })
      assert.is_nil(check.date("2023-02-29"))
      assert.is_nil(check.date("2023-2-28"))
    end)
  end)

  describe("metadata", function()
    it("passes nil through as nil", function()
      assert.is_nil(check.metadata(FN, nil))
    end)

    it("returns a table of string keys to string values unchanged", function()
      local md = { user = "bob", ["plan type"] = "pro", tag = "" }
      assert.equal(md, check.metadata(FN, md))
    end)

    it("raises on a non-table", function()
      local err = raised(check.metadata, FN, "user=bob")
      assert.is_true(contains(err, FN .. ": bad argument 'metadata' (table of strings expected, got string)"), err)
    end)

    it("raises on non-string values, naming the key", function()
      for _, v in ipairs({ 1, true, {} }) do
        local err = raised(check.metadata, FN, { user = v })
        assert.is_true(contains(err, "bad argument 'metadata' (value of 'user' must be a string, got "
          .. type(v) .. ")"), err)
      end
    end)

    it("raises on empty or non-string keys", function()
      local err = raised(check.metadata, FN, { [""] = "x" })
      assert.is_true(contains(err, "bad argument 'metadata' (keys must be non-empty strings"), err)
      err = raised(check.metadata, FN, { "bob" })
      assert.is_true(contains(err, "keys must be non-empty strings, got number 1"), err)
    end)
  end)
end)
