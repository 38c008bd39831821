--- Declarations of the Analytics operations and of the shapes of what they
-- take and return, for LDoc and the Lua language server (LuaLS).
--
-- analytics.lua builds the nine methods of `client.analytics` in a loop from
-- its `OPS` table, so neither tool can see them there: they are declared here
-- instead. This is a `---@meta` file: nothing requires it at run time, and
-- its function bodies are empty. `config.ld` lists it after analytics.lua and
-- merges it into that module (`merge = true`), so this header is not shown.
-- @module apivideo.analytics
---@meta

-- luacheck: no unused args

--- The options of a list operation or a walk.
-- @table ListOptions
---@class apivideo.ListOptions
---@field period? string sessions (required): `2018-01-01`, `2018-W01`, `2018-01`, `2018`, `2018-01-01/2018-01-15`
---@field metadata? table<string,string> video sessions: only those with these metadata (`metadata[key]=value`)
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
---@param opts apivideo.ListOptions `period` is required; `metadata`, `current_page`, `page_size`
---@return apivideo.SessionPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_video_sessions(video_id, opts) end

--- The sessions of a live stream: one request, one page.
---@param live_stream_id string the live stream's id
---@param opts apivideo.ListOptions `period` is required; `current_page`, `page_size`
---@return apivideo.SessionPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_live_stream_sessions(live_stream_id, opts) end

--- The events of a player session: one request, one page.
---@param session_id string the session's id (`session.session_id` of a session)
---@param opts? apivideo.ListOptions `current_page`, `page_size`
---@return apivideo.EventPage? page # the page, or nil on a failure
---@return apivideo.Error? err # why it failed
function Analytics:list_session_events(session_id, opts) end

--- Walks every session of a video.
-- @usage for s in client.analytics:video_sessions(video_id, { period = "2023-01", page_size = 100 }) do
--   print(s.session.session_id, s.location.country)
-- end
---@param video_id string the video's id
---@param opts apivideo.ListOptions `period` is required; `metadata`, `current_page` (where to start), `page_size`
---@return fun():apivideo.VideoSession? next # the next session, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:video_sessions(video_id, opts) end

--- Walks every session of a live stream.
---@param live_stream_id string the live stream's id
---@param opts apivideo.ListOptions `period` is required; `current_page` (where to start), `page_size`
---@return fun():apivideo.VideoSession? next # the next session, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:live_stream_sessions(live_stream_id, opts) end

--- Walks every event of a player session.
---@param session_id string the session's id
---@param opts? apivideo.ListOptions `current_page` (where to start), `page_size`
---@return fun():apivideo.Event? next # the next event, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:session_events(session_id, opts) end

--- Walks the pages of a video's sessions.
-- An empty result yields the one empty page the API returns.
---@param video_id string the video's id
---@param opts apivideo.ListOptions as for `video_sessions`
---@return fun():apivideo.SessionPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:video_session_pages(video_id, opts) end

--- Walks the pages of a live stream's sessions.
-- An empty result yields the one empty page the API returns.
---@param live_stream_id string the live stream's id
---@param opts apivideo.ListOptions as for `live_stream_sessions`
---@return fun():apivideo.SessionPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:live_stream_session_pages(live_stream_id, opts) end

--- Walks the pages of a session's events.
-- An empty result yields the one empty page the API returns.
---@param session_id string the session's id
---@param opts? apivideo.ListOptions as for `session_events`
---@return fun():apivideo.EventPage? next # the next page, nil after the last
---@return nil
---@return nil
---@return apivideo.Walk walk # ends the walk early
function Analytics:session_event_pages(session_id, opts) end

return Analytics
