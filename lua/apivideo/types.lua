--- Declarations of the Analytics operations and of the shapes of what they
-- take and return, for LDoc and the Lua language server (LuaLS).
--
-- analytics.lua builds the methods of `client.analytics` in a loop from the
-- rows of `apivideo.operations`, so neither tool can see them there: they are
-- declared here instead, and spec/operations_spec.lua checks that every row's
-- methods, arguments and options are declared here. This is a `---@meta` file: nothing requires it at run time, and
-- its function bodies are empty. `config.ld` lists it after analytics.lua and
-- merges it into that module (`merge = true`), so this header is not shown.
-- @module apivideo.analytics
---@meta

-- luacheck: no unused args, ignore Videos LiveStreams

--- The options of the events of a session: which page, how many per page.
-- The options of the session operations (`SessionOptions`) take these too.
-- @table PageOptions
---@class apivideo.PageOptions
---@field current_page? integer the page to get, or to start a walk at (>= 1; default 1)
---@field page_size? integer items per page, 1 to 100 (default: the API's, 25)

--- The options of the sessions of a video or a live stream.
-- `period` must be given; `current_page` and `page_size` as in `PageOptions`.
-- The period is read by api.video: see [time zones](../topics/time.md.html).
-- @table SessionOptions
---@class apivideo.SessionOptions: apivideo.PageOptions
---@field period string a day `2018-01-01`, an ISO week `2018-W01`, a month `2018-01`, a year
--- `2018`, or the days `2018-01-01/2018-01-15` (both included)
---@field metadata? table<string,string> video sessions only: those with all these metadata (`metadata[key]=value`)
---@field current_page? integer the page to get, or to start a walk at (>= 1; default 1)
---@field page_size? integer items per page, 1 to 100 (default: the API's, 25)

--- One page: what one list request returned.
-- Anything else the API sends is kept under its wire name.
-- @table Page
---@class apivideo.Page
---@field data table[] the items of this page, in API order (see `SessionPage` and `EventPage`)
---@field pagination apivideo.Pagination where this page sits in the whole result
---@field rate_limit? apivideo.RateLimit the rate-limit headers of the response, nil when it had none

--- A page of video or live-stream sessions.
-- @table SessionPage
---@class apivideo.SessionPage: apivideo.Page
---@field data apivideo.VideoSession[] the sessions of this page

--- A page of the events of one session.
-- @table EventPage
---@class apivideo.EventPage: apivideo.Page
---@field data apivideo.Event[] the events of this page

--- Where a page sits in the whole result.
-- @table Pagination
---@class apivideo.Pagination
---@field items_total integer items in the whole result
---@field pages_total integer pages in the whole result
---@field page_size integer items per page
---@field current_page integer the number of this page (1-based)
---@field current_page_items integer items on this page
---@field links apivideo.Link[] the API's links (`first`, `previous`, `next`, `last`); walks never follow them

--- A link of a page's pagination.
-- @table Link
---@class apivideo.Link
---@field rel string `self`, `first`, `previous`, `next` or `last`
---@field uri string the link's URI, relative to the API

--- The `X-RateLimit-*` headers of a response. Each may be nil when the header was missing.
-- @table RateLimit
---@class apivideo.RateLimit
---@field limit? integer requests allowed in the window (`X-RateLimit-Limit`)
---@field remaining? integer requests left in the window (`X-RateLimit-Remaining`)
---@field retry_after? integer seconds until the window resets (`X-RateLimit-Retry-After`)

--- A player session of a video or of a live stream.
-- Timestamps are ISO-8601 strings (`apivideo.parse_time` reads them); a field
-- the API sent as null is nil.
-- @table VideoSession
---@class apivideo.VideoSession
---@field session apivideo.VideoSession.Session the session itself
---@field location apivideo.VideoSession.Location where the viewer was
---@field referrer apivideo.VideoSession.Referrer where the viewer came from
---@field device apivideo.VideoSession.Device the viewer's device
---@field os apivideo.VideoSession.Os the viewer's operating system
---@field client apivideo.VideoSession.Client the viewer's player client (browser, app)

--- `VideoSession.session`: the session itself.
-- @table VideoSession.Session
---@class apivideo.VideoSession.Session
---@field session_id string the session id, for `session_events`
---@field loaded_at string when the player loaded (ISO-8601)
---@field ended_at? string when the session ended (ISO-8601)
---@field metadata apivideo.Metadata[] the metadata the session was tagged with

--- One metadata entry of a session.
-- @table Metadata
---@class apivideo.Metadata
---@field key string
---@field value string

--- `VideoSession.location`: where the viewer was.
-- @table VideoSession.Location
---@class apivideo.VideoSession.Location
---@field country? string
---@field city? string

--- `VideoSession.referrer`: where the viewer came from.
-- @table VideoSession.Referrer
---@class apivideo.VideoSession.Referrer
---@field url? string
---@field medium? string e.g. `social`, `search`, `direct`
---@field source? string
---@field search_term? string

--- `VideoSession.device`: the viewer's device.
-- @table VideoSession.Device
---@class apivideo.VideoSession.Device
---@field type? string e.g. `computer`, `phone`, `tablet`
---@field vendor? string
---@field model? string

--- `VideoSession.os`: the viewer's operating system.
-- @table VideoSession.Os
---@class apivideo.VideoSession.Os
---@field name? string
---@field shortname? string
---@field version? string

--- `VideoSession.client`: the viewer's player client.
-- @table VideoSession.Client
---@class apivideo.VideoSession.Client
---@field type? string e.g. `browser`
---@field name? string
---@field version? string

--- One event of a player session.
-- @table Event
---@class apivideo.Event
---@field type "ready"|"play"|"pause"|"resume"|"seek.forward"|"seek.backward"|"end"
---@field emitted_at string when it happened (ISO-8601)
---@field at? number the position in the video, in seconds (all but seeks)
---@field from? number seeks: the position before, in seconds
---@field to? number seeks: the position after, in seconds

--- The options of `get_aggregated_metrics` (today's Analytics: `/data/metrics`).
-- `from` and `to` take an RFC 3339 / ATOM date-time (`"2024-02-05T00:00:00+01:00"`, `"…Z"`, with or
-- without a fraction) or seconds since the epoch (`os.time()`); they go out as ATOM in UTC.
-- @table MetricsOptions
---@class apivideo.MetricsOptions
---@field from? string|number start of the timeframe (default: 1 day before `to`; the API keeps 30 days)
---@field to? string|number end of the timeframe, exclusive (default: now)
---@field unique? boolean count each viewer once a day (metrics `ccv` and `view` only)
---@field view_duration? "3s"|"5s"|"10s"|"30s" a view lasts at least this long (metric `view` only; default `5s`)
---@field filter_by? apivideo.FilterBy only the data of these dimensions

--- The options of `get_metrics_breakdown` and its walks (`/data/buckets`).
-- @table BreakdownOptions
---@class apivideo.BreakdownOptions: apivideo.MetricsOptions
---@field sort_by? "metricValue"|"dimensionValue" sort on the figure or on the dimension (snake_case accepted too)
---@field sort_order? "asc"|"desc" ascending (A to Z, 0 to 9) or descending
---@field current_page? integer the page to get, or to start a walk at (>= 1; default 1)
---@field page_size? integer items per page, 1 to 100 (default: the API's, 25)

--- The options of `get_metrics_over_time` and its walks (`/data/timeseries`).
-- @table TimeseriesOptions
---@class apivideo.TimeseriesOptions: apivideo.MetricsOptions
---@field interval? "minute"|"hour"|"day" a point's width (`minute`: at most 60 minutes; default `hour` up to 2 days)
---@field sort_by? "metricValue"|"emittedAt" sort on the figure or on the time (snake_case accepted too)
---@field sort_order? "asc"|"desc" ascending or descending
---@field current_page? integer the page to get, or to start a walk at (>= 1; default 1)
---@field page_size? integer items per page, 1 to 100 (default: the API's, 25)

--- `filter_by`: only the data of these dimensions. Keys combine with AND, the values of one key with OR.
-- A list key takes one string too (a one-element list). Sent as `filterBy[mediaId][]=…` (lists) and
-- `filterBy[mediaType]=…` (strings), keys in this order. With `play`/`total` and `play-total`/`media-id`
-- only `media_id` and `media_type` are allowed.
-- @table FilterBy
---@class apivideo.FilterBy
---@field media_id? string|string[] video or live stream ids
---@field media_type? "video"|"live-stream"
---@field continent? string|string[] `AS`, `AF`, `NA`, `SA`, `AN`, `EU`, `AZ`
---@field country? string|string[] ISO-3166 alpha-2 codes, e.g. `FR`
---@field device_type? string|string[] e.g. `computer`, `phone`, `tablet`, `tv`, `console`, `wearable`, `unknown`
---@field operating_system? string|string[] e.g. `windows`, `mac osx`, `android`, `ios`, `linux`
---@field browser? string|string[] e.g. `chrome`, `firefox`, `edge`, `opera`
---@field tag? string one tag, case-sensitive
---@field referrer? string|string[] exact URLs (up to 2048 characters each); `""` matches views without a referrer

--- What a metrics operation answered about: the metric, its aggregation, breakdown or interval, and the
-- timeframe. Kept as the API sends it (its names may differ from the request's: `view` with
-- `view_duration = "10s"` comes back as `view-10`).
-- @table MetricsContext
---@class apivideo.MetricsContext
---@field metric string
---@field aggregation? string `get_aggregated_metrics`
---@field breakdown? string breakdowns
---@field interval? string time series
---@field timeframe {from:string,to:string} the timeframe the API used, as date-time strings

--- The result of `get_aggregated_metrics`.
-- @table AggregatedMetrics
---@class apivideo.AggregatedMetrics
---@field context apivideo.MetricsContext what was measured
---@field data number the figure: an integer for counts, a float for rates and averages
---@field rate_limit? apivideo.RateLimit the rate-limit headers of the response, nil when it had none

--- One bucket of a breakdown.
-- @table Bucket
---@class apivideo.Bucket
---@field dimension_value string the country, device type, media id… (an empty string for an unknown referrer)
---@field metric_value number the figure for it

--- A page of a breakdown.
-- @table BreakdownPage
---@class apivideo.BreakdownPage: apivideo.Page
---@field context apivideo.MetricsContext what was measured
---@field data apivideo.Bucket[] the buckets of this page

--- One point of a time series.
-- @table TimeseriesPoint
---@class apivideo.TimeseriesPoint
---@field emitted_at string the start of the point's interval (ATOM date-time, kept as sent)
---@field metric_value number the figure for it

--- A page of a time series. The API sends points only for intervals with data: do not assume one point
-- per interval.
-- @table TimeseriesPage
---@class apivideo.TimeseriesPage: apivideo.Page
---@field context apivideo.MetricsContext what was measured
---@field data apivideo.TimeseriesPoint[] the points of this page

--- The fourth value of every walk: ends it at once on any Lua version.
-- On Lua 5.4 it is the generic `for`'s closing value, so leaving the loop
-- (`break`, an error) ends the walk by itself; elsewhere the walk ends when
-- it is garbage collected, or with `walk:close()`.
-- @usage local next_session, _, _, walk = client.analytics:video_sessions(id, { period = "2023" })
-- local first = next_session()
-- walk:close() -- cancels the pages in flight
-- @table Walk
---@class apivideo.Walk
---@field close fun(self:apivideo.Walk) cancels every request still in flight; idempotent

--- The Analytics operations of a client: `client.analytics`.
--
-- Walks fetch the first page alone, then keep up to the client's
-- `concurrency` following pages in flight while you work on the current one
-- (never beyond `pages_total`, never past the rate-limit budget); items come
-- in API order. A walk ends after the last page, and a finished walk keeps
-- returning nil. A generic `for` cannot carry an error, so walks **raise** the
-- error object (`apivideo.is_error`) when a page cannot be fetched.
-- @type Analytics
---@class apivideo.Analytics
local Analytics = {}

--- The sessions of a video: one request, one page.
-- @usage local page, err = client.analytics:list_video_sessions("vi4k0jvEUuaTdRAEjQ4Prklg",
--   { period = "2023-01", metadata = { user = "bob" }, page_size = 25 })
---@param video_id string the video's id
---@param opts apivideo.SessionOptions `period` is required; `metadata`, `current_page`, `page_size`
---@return apivideo.SessionPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_video_sessions(video_id, opts) end

--- The sessions of a live stream: one request, one page.
---@param live_stream_id string the live stream's id
---@param opts apivideo.SessionOptions `period` is required; `current_page`, `page_size`
---@return apivideo.SessionPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_live_stream_sessions(live_stream_id, opts) end

--- The events of a player session: one request, one page.
---@param session_id string the session's id (`session.session_id` of a session)
---@param opts? apivideo.PageOptions `current_page`, `page_size`
---@return apivideo.EventPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_session_events(session_id, opts) end

--- Walks every session of a video.
-- @usage for s in client.analytics:video_sessions(video_id, { period = "2023-01", page_size = 100 }) do
--   print(s.session.session_id, s.location.country)
-- end
---@param video_id string the video's id
---@param opts apivideo.SessionOptions `period` is required; `metadata`, `current_page` (where to start), `page_size`
---@return fun():apivideo.VideoSession? next # the next session, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:video_sessions(video_id, opts) end

--- Walks every session of a live stream.
---@param live_stream_id string the live stream's id
---@param opts apivideo.SessionOptions `period` is required; `current_page` (where to start), `page_size`
---@return fun():apivideo.VideoSession? next # the next session, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:live_stream_sessions(live_stream_id, opts) end

--- Walks every event of a player session.
---@param session_id string the session's id
---@param opts? apivideo.PageOptions `current_page` (where to start), `page_size`
---@return fun():apivideo.Event? next # the next event, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:session_events(session_id, opts) end

--- Walks the pages of a video's sessions.
-- An empty result yields the one empty page the API returns.
---@param video_id string the video's id
---@param opts apivideo.SessionOptions as for `video_sessions`
---@return fun():apivideo.SessionPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:video_session_pages(video_id, opts) end

--- Walks the pages of a live stream's sessions.
-- An empty result yields the one empty page the API returns.
---@param live_stream_id string the live stream's id
---@param opts apivideo.SessionOptions as for `live_stream_sessions`
---@return fun():apivideo.SessionPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:live_stream_session_pages(live_stream_id, opts) end

--- Walks the pages of a session's events.
-- An empty result yields the one empty page the API returns.
---@param session_id string the session's id
---@param opts? apivideo.PageOptions as for `session_events`
---@return fun():apivideo.EventPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:session_event_pages(session_id, opts) end

--- One aggregated figure: plays, starts, ends, impressions, impression time, watch time, concurrent
-- viewers or views over a timeframe (`GET /data/metrics/{metric}/{aggregation}`).
-- Metrics and their aggregations: `play` (`count`, `rate`, `total`), `start`, `end`, `impression`
-- (`count`), `impression-time`, `watch-time` (`average`, `sum`), `ccv` (`peak`, `live`), `view` (`count`).
-- Any other pair is refused before sending, with the valid ones named.
-- @usage local r, err = client.analytics:get_aggregated_metrics("play", "count",
--   { from = "2024-01-01T00:00:00Z", to = os.time(), filter_by = { country = { "FR", "DE" } } })
-- if r then print(r.data, r.context.timeframe.from) end
---@param metric string `play`, `start`, `end`, `impression`, `impression-time`, `watch-time`, `ccv`, `view`
---@param aggregation string `count`, `rate`, `total`, `average`, `sum`, `peak`, `live` (as the metric allows)
---@param opts? apivideo.MetricsOptions `from`, `to`, `unique`, `view_duration`, `filter_by`
---@return apivideo.AggregatedMetrics? result # the figure, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:get_aggregated_metrics(metric, aggregation, opts) end

--- A metric broken down by a dimension: one request, one page (`GET /data/buckets/{metric}/{breakdown}`).
-- Metrics: `play`, `play-rate`, `play-total` (breakdown `media-id` only), `start`, `end`, `impression`,
-- `ccv-peak`, `ccv-average`, `view`. Breakdowns: `media-id`, `media-type`, `continent`, `country`,
-- `device-type`, `operating-system`, `browser`, `referrer`.
-- @usage local page = assert(client.analytics:get_metrics_breakdown("play", "country", { from = os.time() - 86400 }))
-- for _, b in ipairs(page.data) do print(b.dimension_value, b.metric_value) end
---@param metric string the metric
---@param breakdown string the dimension
---@param opts? apivideo.BreakdownOptions `from`, `to`, `sort_by`, `sort_order`, `unique`, `view_duration`, ...
---@return apivideo.BreakdownPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:get_metrics_breakdown(metric, breakdown, opts) end

--- A metric over time: one request, one page (`GET /data/timeseries/{metric}`).
-- Metrics: `play`, `play-rate`, `start`, `end`, `impression`, `ccv-peak`, `ccv-average`, `view`.
---@param metric string the metric
---@param opts? apivideo.TimeseriesOptions `from`, `to`, `interval`, `sort_by`, `sort_order`, `unique`, ...
---@return apivideo.TimeseriesPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:get_metrics_over_time(metric, opts) end

--- Walks every bucket of a breakdown.
-- @usage for b in client.analytics:metrics_breakdown("play", "device-type", { from = "2024-01-01T00:00:00Z" }) do
--   print(b.dimension_value, b.metric_value)
-- end
---@param metric string the metric
---@param breakdown string the dimension
---@param opts? apivideo.BreakdownOptions as for `get_metrics_breakdown`; `current_page` is where to start
---@return fun():apivideo.Bucket? next # the next bucket, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:metrics_breakdown(metric, breakdown, opts) end

--- Walks every point of a time series.
-- @usage for p in client.analytics:metrics_over_time("play", { interval = "day", from = os.time() - 7 * 86400 }) do
--   print(p.emitted_at, p.metric_value)
-- end
---@param metric string the metric
---@param opts? apivideo.TimeseriesOptions as for `get_metrics_over_time`; `current_page` is where to start
---@return fun():apivideo.TimeseriesPoint? next # the next point, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:metrics_over_time(metric, opts) end

--- Walks the pages of a breakdown.
---@param metric string the metric
---@param breakdown string the dimension
---@param opts? apivideo.BreakdownOptions as for `metrics_breakdown`
---@return fun():apivideo.BreakdownPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:metrics_breakdown_pages(metric, breakdown, opts) end

--- Walks the pages of a time series.
---@param metric string the metric
---@param opts? apivideo.TimeseriesOptions as for `metrics_over_time`
---@return fun():apivideo.TimeseriesPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:metrics_over_time_pages(metric, opts) end

--- A video or a live stream as the API describes it (`GET /videos/{videoId}`,
-- `GET /live-streams/{liveStreamId}`): its fields under their snake_case or
-- wire names; the reports and the archive use `title`.
-- @table Media
---@class apivideo.Media
---@field title? string the title
---@field rate_limit? apivideo.RateLimit the rate-limit headers of the response, nil when it had none

--- The videos of the account: `client.videos`. Only what the analytics need:
-- a video's title, so that figures about a media id can name it.
-- @type Videos
---@class apivideo.Videos
local Videos = {}

--- One video: one request.
-- @usage local v, err = client.videos:get("vi4k0jvEUuaTdRAEjQ4Prklg") print(v and v.title)
---@param video_id string the video's id
---@param opts? table no option yet (a table, or nil)
---@return apivideo.Media? video # the video, or nil on a failure (a 404 for an unknown id)
---@return apivideo.Error? err # why it failed
function Videos:get(video_id, opts) end

--- The live streams of the account: `client.live_streams`.
-- @type LiveStreams
---@class apivideo.LiveStreams
local LiveStreams = {}

--- One live stream: one request.
-- @usage local l, err = client.live_streams:get("li400mYKSgQ6xs7taUeSaEKr") print(l and l.title)
---@param live_stream_id string the live stream's id
---@param opts? table no option yet (a table, or nil)
---@return apivideo.Media? live_stream # the live stream, or nil on a failure (a 404 for an unknown id)
---@return apivideo.Error? err # why it failed
function LiveStreams:get(live_stream_id, opts) end

return Analytics
