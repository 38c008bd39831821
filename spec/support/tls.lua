-- Test helper: a private CA and a server certificate signed by it, for the
-- stand-in's TLS listener (S.start({ tls_cert = ..., tls_key = ... })).
--
--   local tls = require("spec.support.tls")
--   local dir = tls.make_ca({ "DNS:localhost", "IP:127.0.0.1" })
--     dir .. "/ca.pem"    the CA certificate (a client's ca_file)
--     dir .. "/srv.pem"   the server certificate: CN localhost, these subjectAltNames
--     dir .. "/srv.key"   its key
--   tls.remove(dir)
--
-- P-256 keys: generated in milliseconds (an RSA key takes a random 0.2-2 s).
-- Both certificates are valid for two days.
local sh = require("spec.support.shell")

local M = {}

function M.make_ca(alt_names)
  local dir = sh.tmpdir()
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
  local cmds = {
    "openssl req -x509 " .. ec .. " -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=apivideo test CA'",
    "openssl req " .. ec .. " -nodes -keyout srv.key -out srv.csr -subj '/CN=localhost'",
    "printf 'subjectAltName=%s\\n' " .. sh.quote(table.concat(alt_names, ",")) .. " > ext",
    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext",
  }
  for _, cmd in ipairs(cmds) do
    local out, code = sh.run("cd " .. sh.quote(dir) .. " && " .. cmd)
    assert(code == 0, cmd .. " failed:\n" .. out)
  end
  return dir
end

function M.remove(dir)
  if dir then sh.remove_tree(dir) end
end

return M
