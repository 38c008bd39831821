rockspec_format = "3.0"
package = "lua-apivideo"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/lua-apivideo/lua-apivideo.git",
  tag = "v0.1.0",
}
description = {
  summary = "api.video Analytics client: libcurl multi in C, prefetching iterators in Lua",
  detailed = [[
    Both generations of api.video's analytics: today's /data operations
    (aggregated metrics, breakdowns by dimension, time series) and the raw
    statistics (the player sessions of a video or live stream, the events of
    a session). Bearer or Basic authentication, retries, rate-limit aware
    prefetch, a non-blocking step API for event loops (OpenResty, games), an
    answer cache and a rate-limit budget shared across workers and hosts,
    Prometheus counters, HTML and terminal charts, and the
    apivideo-analytics command.
  ]],
  license = "MIT",
  labels = { "api.video", "analytics", "http", "curl" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1.0",
}
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  type = "builtin",
  modules = {
    ["apivideo.core"] = {
      sources = { "src/buf.c", "src/core.c", "src/headers.c", "src/json.c", "src/module.c", "src/multi.c", "src/share.c",
        "src/transfer.c", "src/wait.c" },
      libraries = { "curl", "pthread" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["apivideo"] = "lua/apivideo/init.lua",
    ["apivideo.analytics"] = "lua/apivideo/analytics.lua",
    ["apivideo.archive"] = "lua/apivideo/archive.lua",
    ["apivideo.archive.db"] = "lua/apivideo/archive/db.lua",
    ["apivideo.archive.read"] = "lua/apivideo/archive/read.lua",
    ["apivideo.archive.schema"] = "lua/apivideo/archive/schema.lua",
    ["apivideo.auth"] = "lua/apivideo/auth.lua",
    ["apivideo.cli"] = "lua/apivideo/cli.lua",
    ["apivideo.cli.archive"] = "lua/apivideo/cli/archive.lua",
    ["apivideo.cli.args"] = "lua/apivideo/cli/args.lua",
    ["apivideo.cli.commands"] = "lua/apivideo/cli/commands.lua",
    ["apivideo.cli.data"] = "lua/apivideo/cli/data.lua",
    ["apivideo.cli.formats"] = "lua/apivideo/cli/formats.lua",
    ["apivideo.cli.help"] = "lua/apivideo/cli/help.lua",
    ["apivideo.cli.messages"] = "lua/apivideo/cli/messages.lua",
    ["apivideo.cli.options"] = "lua/apivideo/cli/options.lua",
    ["apivideo.cli.output"] = "lua/apivideo/cli/output.lua",
    ["apivideo.cli.report"] = "lua/apivideo/cli/report.lua",
    ["apivideo.cli.run"] = "lua/apivideo/cli/run.lua",
    ["apivideo.cli.stats"] = "lua/apivideo/cli/stats.lua",
    ["apivideo.cli.walk"] = "lua/apivideo/cli/walk.lua",
    ["apivideo.chart"] = "lua/apivideo/chart/init.lua",
    ["apivideo.chart.text"] = "lua/apivideo/chart/text.lua",
    ["apivideo.chart.markup"] = "lua/apivideo/chart/markup.lua",
    ["apivideo.chart.format"] = "lua/apivideo/chart/format.lua",
    ["apivideo.chart.calendar"] = "lua/apivideo/chart/calendar.lua",
    ["apivideo.chart.scale"] = "lua/apivideo/chart/scale.lua",
    ["apivideo.chart.stats"] = "lua/apivideo/chart/stats.lua",
    ["apivideo.chart.plot"] = "lua/apivideo/chart/plot.lua",
    ["apivideo.chart.term"] = "lua/apivideo/chart/term.lua",
    ["apivideo.check"] = "lua/apivideo/check.lua",
    ["apivideo.client"] = "lua/apivideo/client.lua",
    ["apivideo.engine"] = "lua/apivideo/engine.lua",
    ["apivideo.hub"] = "lua/apivideo/hub.lua",
    ["apivideo.errors"] = "lua/apivideo/errors.lua",
    ["apivideo.fields"] = "lua/apivideo/fields.lua",
    ["apivideo.operations"] = "lua/apivideo/operations.lua",
    ["apivideo.pager"] = "lua/apivideo/pager.lua",
    ["apivideo.ratelimit"] = "lua/apivideo/ratelimit.lua",
    ["apivideo.report"] = "lua/apivideo/report.lua",
    ["apivideo.request"] = "lua/apivideo/request.lua",
    ["apivideo.retry"] = "lua/apivideo/retry.lua",
    ["apivideo.transport"] = "lua/apivideo/transport.lua",
    ["apivideo.group"] = "lua/apivideo/group.lua",
    ["apivideo.clock"] = "lua/apivideo/clock.lua",
    ["apivideo.calendar"] = "lua/apivideo/calendar.lua",
    ["apivideo.tz"] = "lua/apivideo/tz.lua",
    ["apivideo.store"] = "lua/apivideo/store.lua",
    ["apivideo.redis_store"] = "lua/apivideo/redis_store.lua",
    ["apivideo.cache"] = "lua/apivideo/cache.lua",
    ["apivideo.metrics"] = "lua/apivideo/metrics.lua",
    ["apivideo.prometheus"] = "lua/apivideo/prometheus.lua",
    ["apivideo.types"] = "lua/apivideo/types.lua",
    ["apivideo.time"] = "lua/apivideo/time.lua",
    ["apivideo.url"] = "lua/apivideo/url.lua",
    ["apivideo.waiter"] = "lua/apivideo/waiter.lua",
  },
  install = {
    bin = { ["apivideo-analytics"] = "bin/apivideo-analytics" },
  },
}
