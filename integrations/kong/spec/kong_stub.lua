-- A stand-in for the small part of Kong's PDK and libraries the plugin uses. Each test calls
-- `reset()` and then reads what the plugin did from the returned state.
local cjson = require "cjson.safe"

local M = {}

local state

function M.reset(options)
  options = options or {}
  state = {
    registered = {},      -- worker_events.register calls: { handler, source, event }
    health_subscribers = {},
    enqueued = {},        -- Queue.enqueue calls: { queue_conf, handler, handler_conf, value }
    full = false,         -- what Queue.is_full answers
    requests = {},        -- resty.http requests: { url, params }
    respond = options.respond or function() return { status = 202, body = "{}" } end,
    logs = {},
    plugins = options.plugins or {},
    worker_id = options.worker_id or 0,
    response = options.response or {},
  }

  local null = cjson.null
  _G.ngx = {
    null = null,
    now = function() return 1700000000.5 end,
    worker = {
      id = function() return state.worker_id end,
      pid = function() return 4242 end,
    },
  }

  local function logger(level)
    return function(...)
      local parts = {}
      for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
      state.logs[#state.logs + 1] = { level = level, message = table.concat(parts) }
    end
  end

  _G.kong = {
    log = { err = logger("err"), warn = logger("warn"), notice = logger("notice"), info = logger("info"), debug = logger("debug") },
    node = { get_id = function() return "6d2a3f1c-0000-4000-8000-000000000001" end },
    worker_events = {
      register = function(handler, source, event)
        state.registered[#state.registered + 1] = { handler = handler, source = source, event = event }
      end,
    },
    db = {
      plugins = {
        each = function(_, size, options)
          state.plugins_each_options = options
          local i = 0
          return function()
            i = i + 1
            return state.plugins[i]
          end
        end,
      },
    },
    response = {
      get_status = function() return state.response.status end,
      get_headers = function() return state.response.headers or {} end,
    },
    client = {
      get_consumer = function() return state.response.consumer end,
      get_forwarded_ip = function() return state.response.ip end,
    },
    router = { get_service = function() return state.response.service end },
  }

  package.loaded["kong.tools.queue"] = {
    enqueue = function(queue_conf, handler, handler_conf, value)
      state.enqueued[#state.enqueued + 1] = {
        queue_conf = queue_conf, handler = handler, handler_conf = handler_conf, value = value,
      }
      return true
    end,
    is_full = function() return state.full end,
  }
  package.loaded["kong.runloop.balancer"] = {
    subscribe_to_healthcheck_events = function(callback)
      state.health_subscribers[#state.health_subscribers + 1] = callback
    end,
  }
  package.loaded["resty.http"] = {
    new = function()
      local client = {}
      function client:set_timeout(ms) self.timeout = ms end
      function client:request_uri(url, params)
        state.requests[#state.requests + 1] = { url = url, params = params, timeout = self.timeout }
        return state.respond(url, params)
      end
      return client
    end,
  }
  for _, name in ipairs({ "handler", "events", "sender" }) do
    package.loaded["kong.plugins.event-hooks-bridge." .. name] = nil
  end
  return state
end

--- Emits a worker event to every handler registered for its source (and event, when given).
function M.post(source, event, data)
  for _, r in ipairs(state.registered) do
    if r.source == source and (r.event == nil or r.event == event) then r.handler(data, event, source, 4242) end
  end
end

return M
