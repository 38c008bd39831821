-- The Prometheus text format read back by real parsers: `promtool check metrics` (Debian prometheus)
-- must accept it, and Python's prometheus_client (Debian python3-prometheus-client) parses it.
local assert = require("luassert")
local sh = require("spec.support.shell")
local cjson = require("cjson")

local M = {}

-- (no "[[" in this script: Lua 5.1 refuses nested long brackets even inside a level-1 string)
local PARSER = [=[
import sys, json
from prometheus_client.parser import text_string_to_metric_families
fams = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    fams[fam.name] = {"type": fam.type, "samples": [ [s.name, s.labels, s.value] for s in fam.samples ]}
print(json.dumps(fams))
]=]

-- text -> { family = { type = "counter", samples = { {sample, labels, value}, ... } } };
-- fails the test, showing the text, if promtool refuses it
function M.parse(text)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(text)
  f:close()
  local out, code = sh.run("/usr/bin/promtool check metrics < " .. sh.quote(file))
  assert.are.equal(0, code, out .. "\n" .. text)
  out, code = sh.run("/usr/bin/python3 -c " .. sh.quote(PARSER) .. " " .. sh.quote(file))
  os.remove(file)
  assert.are.equal(0, code, out)
  return cjson.decode(out)
end

return M
