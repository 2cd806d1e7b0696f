-- Prints the body the plugin would POST to /events for one change of each kind, driven by the
-- PDK stand-in (not a busted spec: test/integrations/kongPlugin.test.ts posts it to the service).
package.path = "./?.lua;./spec/?.lua;" .. package.path
local cjson = require "cjson.safe"
local stub_kong = require "kong_stub"

local conf = {
  url = "http://127.0.0.1:8001",
  sources = { "crud", "balancer", "rate-limiting-advanced" },
  batch_max_size = 100, flush_timeout = 2, timeout = 10000, max_entries = 10000, max_retry_time = 60,
}
local body
local state = stub_kong.reset({
  plugins = { { name = "event-hooks-bridge", enabled = true, route = cjson.null, service = cjson.null, consumer = cjson.null, config = conf } },
  respond = function(_, params)
    body = params.body
    return { status = 202, body = "" }
  end,
  response = {
    status = 429,
    headers = { ["X-RateLimit-Limit-Minute"] = "10", ["X-RateLimit-Remaining-Minute"] = "0" },
    consumer = { id = "c-id", username = "jane" },
    ip = "203.0.113.7",
    service = { id = "s-id", name = "orders" },
  },
})
local handler = require "kong.plugins.event-hooks-bridge.handler"
handler:init_worker()

local data = {
  operation = "update",
  schema = { name = "consumers" },
  entity = { id = "8a1c0f3e-7a2b-4c55-9c1d-2b5b8f0e6a11", username = "jane", custom_id = cjson.null },
  old_entity = { id = "8a1c0f3e-7a2b-4c55-9c1d-2b5b8f0e6a11", username = "janet", custom_id = cjson.null },
}
stub_kong.post("crud", "consumers", data)
stub_kong.post("crud", "consumers:update", data)
state.health_subscribers[1]("u1-id", "10.0.0.5", 8080, "api.internal", "unhealthy")
handler:log(conf)

local entries = {}
for i, call in ipairs(state.enqueued) do entries[i] = call.value end
local sender = require "kong.plugins.event-hooks-bridge.sender"
assert(sender.send(conf, entries))
io.write(body)
