-- Kong's own event shapes → the service's events (`{source, event, data}`), with no Kong
-- dependency so that the same mapping is tested outside Kong.
local tonumber = tonumber
local lower = string.lower

local _M = {}

-- Kong's `ngx.null` (or cjson's) stands for JSON null in entities.
local function present(value, null)
  return value ~= nil and value ~= null and value ~= ""
end

--- A `crud` worker event, as Kong's runloop posts it: source "crud", event "<entity>" and again
--- "<entity>:<operation>", data `{operation, entity, old_entity, schema = <schema object>}`.
--- The change is sent once, from its "<entity>:<operation>" copy (the service fans it out to
--- hooks on `crud/<entity>`, `crud/<entity>:<operation>`, `crud` and `dao:crud`).
function _M.crud(data, event, null)
  if type(data) ~= "table" or type(event) ~= "string" or not event:find(":", 1, true) then
    return nil
  end
  local schema = data.schema
  local schema_name = type(schema) == "table" and schema.name or schema
  local out = {
    operation = data.operation,
    entity = data.entity,
    schema = schema_name,
  }
  if present(data.old_entity, null) then out.old_entity = data.old_entity end
  return { source = "crud", event = event, data = out }
end

--- A balancer health change, as `kong.runloop.balancer.subscribe_to_healthcheck_events` reports it.
function _M.health(upstream_id, ip, port, hostname, health)
  return {
    source = "balancer",
    event = "health",
    data = { upstream_id = upstream_id, ip = ip, port = port, hostname = hostname, health = health },
  }
end

-- Window names of the rate-limiting plugins, in seconds, to pick the shortest one.
local WINDOW_SECONDS = {
  second = 1, minute = 60, hour = 3600, day = 86400, month = 2592000, year = 31536000,
}

local function first_value(value)
  if type(value) == "table" then return value[1] end
  return value
end

--- Whether an answer is a rate limiter's refusal: a 429 with a `ratelimit-*` or `x-ratelimit-*` header.
function _M.is_rate_limited(status, headers)
  if tonumber(status) ~= 429 or type(headers) ~= "table" then return false end
  for name in pairs(headers) do
    local n = lower(name)
    if n:sub(1, 10) == "ratelimit-" or n:sub(1, 12) == "x-ratelimit-" then return true end
  end
  return false
end

--- `limit` and `window` from `x-ratelimit-limit-<window>` headers: the window whose
--- `x-ratelimit-remaining-<window>` is 0 (the one that refused), else the shortest window.
--- Without such a header, `limit` comes from `ratelimit-limit` and there is no window.
function _M.limit_and_window(headers)
  local limits, remaining = {}, {}
  for name, value in pairs(headers) do
    local n = lower(name)
    local window = n:match("^x%-ratelimit%-limit%-(.+)$")
    if window then limits[window] = tonumber(first_value(value)) end
    window = n:match("^x%-ratelimit%-remaining%-(.+)$")
    if window then remaining[window] = tonumber(first_value(value)) end
  end
  local best, best_exhausted, best_seconds
  for window in pairs(limits) do
    local exhausted = remaining[window] == 0
    local seconds = WINDOW_SECONDS[window] or tonumber(window) or math.huge
    local better = best == nil
      or (exhausted and not best_exhausted)
      or (exhausted == best_exhausted and (seconds < best_seconds or (seconds == best_seconds and window < best)))
    if better then best, best_exhausted, best_seconds = window, exhausted, seconds end
  end
  if best then return limits[best], best end
  for name, value in pairs(headers) do
    if lower(name) == "ratelimit-limit" then return tonumber(first_value(value)), nil end
  end
  return nil, nil
end

--- `rate-limiting-advanced`/`rate-limit-exceeded` for a refused request; nil when the answer was
--- not a rate limiter's refusal. `consumer` and `service` are Kong entities (or nil).
function _M.rate_limit(status, headers, consumer, ip, service, null)
  if not _M.is_rate_limited(status, headers) then return nil end
  local data = {}
  if type(consumer) == "table" then
    data.consumer = present(consumer.username, null) and consumer.username or consumer.id
  end
  if present(ip, null) then data.ip = ip end
  if type(service) == "table" then
    data.service = present(service.name, null) and service.name or service.id
  end
  data.limit, data.window = _M.limit_and_window(headers)
  return { source = "rate-limiting-advanced", event = "rate-limit-exceeded", data = data }
end

return _M
