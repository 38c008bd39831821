-- Unit specs of lua/apivideo/url.lua: percent-encoding, query building, hosts, base64.
local url = require("apivideo.url")
local mime = require("mime") -- luasocket's base64, an independent implementation

-- An independent percent-decoder.
local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

describe("apivideo.url", function()
  describe("encode", function()
    it("keeps RFC 3986's unreserved characters as they are", function()
      local unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
      assert.equal(unreserved, url.encode(unreserved))
    end)

    it("encodes the reserved characters that could change a path or a query", function()
      assert.equal("%2F", url.encode("/"))
      assert.equal("%3F", url.encode("?"))
      assert.equal("%23", url.encode("#"))
      assert.equal("%25", url.encode("%"))
      assert.equal("%20", url.encode(" "))
      assert.equal("%26%3D%2B%3A%40%5B%5D%21%24%27%28%29%2A%2C%3B", url.encode("&=+:@[]!$'()*,;"))
      assert.equal("..%2Fx%3Fy%23z", url.encode("../x?y#z"))
      assert.equal("a%2Fb", url.encode("a/b"))
    end)

    it("does not double-encode: an existing escape sequence is encoded again as data", function()
      assert.equal("100%25%2041", url.encode("100% 41"))
      assert.equal("%2520", url.encode("%20"))
    end)

    it("encodes UTF-8 byte by byte with upper-case hex", function()
      assert.equal("caf%C3%A9%20au%20lait", url.encode("café au lait"))
      assert.equal("%E6%97%A5%E6%9C%AC", url.encode("日本"))
      assert.equal("%F0%9F%8E%AC", url.encode("🎬"))
    end)

    it("round-trips all 256 byte values and leaves only unreserved characters and %XX", function()
      local all = {}
      for b = 0, 255 do all[#all + 1] = string.char(b) end
      local s = table.concat(all)
      local e = url.encode(s)
      assert.equal(s, decode(e))
      assert.is_nil(e:gsub("%%%x%x", ""):find("[^%w%-%._~]"))
      assert.is_nil(e:find("%%%x?%l")) -- hex digits are upper-case
      -- 66 unreserved bytes stay one character, the other 190 become three
      assert.equal(66 + 190 * 3, #e)
    end)

    it("returns a single value (usable directly as an argument)", function()
      assert.equal(1, select("#", url.encode("a b")))
    end)
  end)

  describe("query", function()
    it("is empty without pairs", function()
      assert.equal("", url.query({}))
    end)

    it("joins the pairs in the given order, encoding values but not keys", function()
      local q = url.query({ { "period", "2018-01-01/2018-01-15" }, { "metadata[user]", "bob & alice" },
        { "currentPage", "2" } })
      assert.equal("?period=2018-01-01%2F2018-01-15&metadata[user]=bob%20%26%20alice&currentPage=2", q)
    end)
  end)

  describe("trim_base", function()
    it("strips every trailing slash and nothing else", function()
      assert.equal("http://127.0.0.1:8080", url.trim_base("http://127.0.0.1:8080/"))
      assert.equal("https://ws.api.video", url.trim_base("https://ws.api.video///"))
      assert.equal("https://h/prefix", url.trim_base("https://h/prefix/"))
      assert.equal("https://h", url.trim_base("https://h"))
    end)
  end)

  describe("host", function()
    it("returns the lower-cased host without port, credentials or path", function()
      assert.equal("example.com", url.host("http://Example.COM:8080/path?q#f"))
      assert.equal("host.tld", url.host("https://user:pw@host.tld/x"))
      assert.equal("127.0.0.1", url.host("http://127.0.0.1"))
      assert.equal("h", url.host("http://h?x=1"))
      assert.equal("h", url.host("http://h#frag"))
    end)

    it("unwraps IPv6 literals", function()
      assert.equal("::1", url.host("http://[::1]:8080/"))
      assert.equal("2001:db8::1", url.host("https://[2001:DB8::1]/x"))
    end)

    it("returns nil for something that is not an absolute URL", function()
      assert.is_nil(url.host("not a url"))
      assert.is_nil(url.host("/relative/path"))
    end)
  end)

  describe("is_loopback", function()
    it("is true for 127.0.0.0/8, ::1 and localhost", function()
      for _, h in ipairs({ "127.0.0.1", "127.1.2.3", "127.255.255.255", "127.0.0.0", "localhost", "::1" }) do
        assert.is_true(url.is_loopback(h), h)
      end
    end)

    it("is false for other hosts, look-alikes and nil", function()
      for _, h in ipairs({ "128.0.0.1", "10.0.0.1", "0.0.0.0", "126.255.255.255", "127.256.0.1", "127.0.0.1000",
        "127.0.0", "127.0.0.1.example.com", "localhost.example.com", "example.com", "ws.api.video",
        "mylocalhost", "::2", "" }) do
        assert.is_false(url.is_loopback(h), h)
      end
      assert.is_false(url.is_loopback(nil))
    end)

    it("agrees with the hosts that url.host extracts", function()
      assert.is_true(url.is_loopback(url.host("http://LOCALHOST:1234/")))
      assert.is_true(url.is_loopback(url.host("http://[::1]:8080")))
      assert.is_false(url.is_loopback(url.host("http://127.0.0.1@evil.example/")))
    end)

    -- libcurl (like browsers, WHATWG URL) reads an IPv4 part with a leading 0 as octal:
    -- http://0127.0.0.1/ connects to 87.0.0.1, a public address. Counting it as loopback
    -- lets apivideo.new send the API key over plain http to a remote host.
    it("is false for an octal-looking first part such as 0127.0.0.1 (curl connects to 87.0.0.1)", function()
      assert.is_false(url.is_loopback("0127.0.0.1"))
      assert.is_false(url.is_loopback(url.host("http://0127.0.0.1:8080/")))
    end)
  end)

  describe("base64", function()
    it("matches the test vectors of RFC 4648 section 10", function()
      assert.equal("", url.base64(""))
      assert.equal("Zg==", url.base64("f"))
      assert.equal("Zm8=", url.base64("fo"))
      assert.equal("Zm9v", url.base64("foo"))
      assert.equal("Zm9vYg==", url.base64("foob"))
      assert.equal("Zm9vYmE=", url.base64("fooba"))
      assert.equal("Zm9vYmFy", url.base64("foobar"))
    end)

    it("uses the standard alphabet (+ and /) and encodes NUL and high bytes", function()
      assert.equal("AA==", url.base64("\0"))
      assert.equal("AAAA", url.base64("\0\0\0"))
      assert.equal("////", url.base64("\255\255\255"))
      assert.equal("+/8=", url.base64("\251\255"))
    end)

    it("agrees with luasocket's mime.b64 on every length and every byte value", function()
      local bytes = {}
      for b = 0, 255 do bytes[#bytes + 1] = string.char((b * 37 + 11) % 256) end
      local s = table.concat(bytes)
      for n = 0, #s do
        local part = s:sub(1, n)
        assert.equal(mime.b64(part) or "", url.base64(part), "length " .. n)
      end
      assert.equal((mime.b64("standin-key:")), url.base64("standin-key:"))
    end)
  end)
end)
