-- apivideo.calendar: the library's one calendar. The oracle for ISO weeks
-- and dates is the C library's strftime (os.date with "!", UTC), which
-- shares no code with the module.
local calendar = require("apivideo.calendar")

local DAY = 86400

-- from, to of a period as "YYYY-MM-DD" texts (to excluded), through os.date
local function texts(from, to)
  return os.date("!%Y-%m-%d", from), os.date("!%Y-%m-%d", to)
end

describe("apivideo.calendar", function()
  it("day numbers and dates agree with the C library both ways, 1900 to 2100", function()
    local first, last = calendar.days_from_civil(1900, 1, 1), calendar.days_from_civil(2100, 12, 31)
    assert.are.equal(-25567, first)
    for z = first, last, 7 do
      local y, m, d = calendar.civil_from_days(z)
      assert.are.equal(os.date("!%Y-%m-%d", z * DAY), string.format("%04d-%02d-%02d", y, m, d))
      assert.are.equal(z, calendar.days_from_civil(y, m, d))
      assert.are.equal(tonumber(os.date("!%u", z * DAY)), calendar.weekday(z))
    end
  end)

  it("the ISO year and week of every day of 1999 to 2032 are the C library's %G and %V", function()
    for z = calendar.days_from_civil(1999, 1, 1), calendar.days_from_civil(2032, 12, 31) do
      local y, w = calendar.iso_week_of(z)
      assert.are.equal(os.date("!%G-W%V", z * DAY), string.format("%04d-W%02d", y, w))
    end
  end)

  it("counts 53 ISO weeks exactly in the years whose December 28 is in week 53", function()
    local long = {}
    for y = 1990, 2040 do
      -- December 28 is always in the year's last ISO week
      local last = tonumber(os.date("!%V", calendar.days_from_civil(y, 12, 28) * DAY))
      assert.are.equal(last, calendar.iso_weeks(y), tostring(y))
      if last == 53 then long[#long + 1] = y end
    end
    assert.are.same({ 1992, 1998, 2004, 2009, 2015, 2020, 2026, 2032, 2037 }, long)
  end)

  it("knows which dates exist", function()
    local cases = {
      { "2024-02-29", { 2024, 2, 29 } },
      { "2000-02-29", { 2000, 2, 29 } },
      { "2023-12-31", { 2023, 12, 31 } },
      { "1900-02-29", { nil, "the date 1900-02-29 does not exist: February 1900 has 28 days" } },
      { "2023-02-29", { nil, "the date 2023-02-29 does not exist: February 2023 has 28 days" } },
      { "2023-04-31", { nil, "the date 2023-04-31 does not exist: April 2023 has 30 days" } },
      { "2023-13-01", { nil, "there is no month 13 (01 to 12)" } },
      { "2023-00-10", { nil, "there is no month 00 (01 to 12)" } },
      { "2023-1-1", {} },
      { "20230101", {} },
    }
    for _, c in ipairs(cases) do
      assert.are.same(c[2], { calendar.date(c[1]) }, c[1])
    end
  end)

  describe("parse_period", function()
    it("gives the UTC bounds [from, to) of each of api.video's five forms", function()
      local cases = {
        { "2023", "2023-01-01", "2024-01-01" },
        { "2024-02", "2024-02-01", "2024-03-01" },
        { "2023-02", "2023-02-01", "2023-03-01" },
        { "2023-12", "2023-12-01", "2024-01-01" },
        { "2023-W01", "2023-01-02", "2023-01-09" },
        { "2020-W53", "2020-12-28", "2021-01-04" },
        { "2026-W01", "2025-12-29", "2026-01-05" }, -- a week 1 that starts in December
        { "2023-01-31", "2023-01-31", "2023-02-01" },
        { "2024-02-29", "2024-02-29", "2024-03-01" },
        { "2023-01-01/2023-01-31", "2023-01-01", "2023-02-01" },
        { "2023-12-31/2023-12-31", "2023-12-31", "2024-01-01" },
      }
      for _, c in ipairs(cases) do
        local from, to = calendar.parse_period(c[1])
        assert.is_number(from, c[1])
        assert.are.same({ c[2], c[3] }, { texts(from, to) }, c[1])
      end
    end)

    it("every ISO week of 2015 to 2030 starts on the Monday the C library puts first", function()
      for y = 2015, 2030 do
        for w = 1, calendar.iso_weeks(y) do
          local p = string.format("%04d-W%02d", y, w)
          local from, to = calendar.parse_period(p)
          assert.are.equal(p, os.date("!%G-W%V", from))
          assert.are.equal("1", os.date("!%u", from), p)
          assert.are.equal(7 * DAY, to - from)
        end
      end
    end)

    it("says why a period of the right shape names nothing real, quoting it", function()
      local cases = {
        { "2023-13", "there is no month 13 (01 to 12); got '2023-13'" },
        { "2023-W53", "there is no week 53: 2023 has 52 ISO weeks; got '2023-W53'" },
        { "2023-W00", "there is no week 00: 2023 has 52 ISO weeks; got '2023-W00'" },
        { "2023-02-30", "the date 2023-02-30 does not exist: February 2023 has 28 days; got '2023-02-30'" },
        { "2023-01-01/2023-02-30",
          "the date 2023-02-30 does not exist: February 2023 has 28 days; got '2023-01-01/2023-02-30'" },
        { "2023-13-01/2023-12-01", "there is no month 13 (01 to 12); got '2023-13-01/2023-12-01'" },
        { "2023-02-01/2023-01-31", "range '2023-02-01/2023-01-31' ends before it starts" },
        { "2023-1", "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD expected, got '2023-1'" },
        { "last week", "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY or YYYY-MM-DD/YYYY-MM-DD expected, got 'last week'" },
      }
      for _, c in ipairs(cases) do
        assert.are.same({ nil, c[2] }, { calendar.parse_period(c[1]) }, c[1])
      end
    end)
  end)

  it("is the one copy: check, time, chart.calendar, clock and the CLI use it", function()
    local check, chart_calendar = require("apivideo.check"), require("apivideo.chart.calendar")
    assert.are.equal(calendar.date, check.date)
    assert.are.equal(calendar.days_from_civil, chart_calendar.days_from_civil)
    assert.are.equal(calendar.civil_from_days, chart_calendar.civil_from_days)
    -- no other file of the library does calendar arithmetic of its own
    local root = debug.getinfo(1, "S").source:match("^@(.*)spec/calendar_spec%.lua$") or "./"
    for _, f in ipairs({ "check", "time", "clock", "cache", "chart/calendar", "cli/args", "cli/report" }) do
      local fh = assert(io.open(root .. "lua/apivideo/" .. f .. ".lua"))
      local src = fh:read("*a")
      fh:close()
      assert.is_nil(src:find("719468", 1, true), f .. " has its own day-number algorithm")
      assert.is_nil(src:find("January 4", 1, true), f .. " has its own ISO week rule")
      assert.is_nil(src:find("days_from_civil(y + 1", 1, true), f .. " has its own period bounds")
      assert.is_nil(src:find("% 400", 1, true), f .. " has its own leap-year rule")
    end
  end)
end)
