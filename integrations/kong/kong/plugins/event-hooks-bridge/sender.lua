-- The batch handler given to Kong's queue: one `POST <url>/events` per batch. Kong's queue retries
-- a batch while this returns false (with an error), so a 5xx, a 408, a 429 or a transport error
-- (timeout, refused connection) returns false; a 2xx returns true.
local cjson = require "cjson.safe"
local http = require "resty.http"

local _M = {}

--- `<url>/events`, whatever the configured URL ends with.
function _M.events_url(url)
  return (url:gsub("/+$", "")) .. "/events"
end

local function retryable(status)
  return status >= 500 or status == 408 or status == 429
end

--- @param conf the plugin configuration (url, key, timeout)
--- @param entries a list of events `{source, event, data, id}`
--- @return true, or false and an error message
function _M.send(conf, entries)
  local body, encode_err = cjson.encode(entries)
  if not body then
    -- Not retryable: the same entries would fail to encode again.
    kong.log.err("could not encode ", #entries, " events, dropping them: ", encode_err)
    return true
  end
  local headers = { ["Content-Type"] = "application/json" }
  if conf.key and conf.key ~= ngx.null and conf.key ~= "" then
    headers["Authorization"] = "Bearer " .. conf.key
  end
  local client = http.new()
  client:set_timeout(conf.timeout or 10000)
  local url = _M.events_url(conf.url)
  local res, err = client:request_uri(url, { method = "POST", body = body, headers = headers })
  if not res then
    return false, "could not send " .. #entries .. " events to " .. url .. ": " .. tostring(err)
  end
  local status = res.status
  if status >= 200 and status < 300 then return true end
  local message = "sending " .. #entries .. " events to " .. url .. " answered " .. status .. ": " .. tostring(res.body)
  if retryable(status) then return false, message end
  -- Another 4xx: the service refused these events as they are; a retry would be refused the same.
  kong.log.err(message, " (not retried)")
  return true
end

return _M
