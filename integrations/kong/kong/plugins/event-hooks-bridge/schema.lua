-- Configuration of event-hooks-bridge. Kong validates it when the plugin is added.
local typedefs = require "kong.db.schema.typedefs"

local SOURCES = { "crud", "balancer", "rate-limiting-advanced" }

return {
  name = "event-hooks-bridge",
  fields = {
    -- Events are produced by the node, not by one consumer's request.
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          -- The service's base URL; events go to `<url>/events`.
          { url = typedefs.url { required = true } },
          -- Sent as `Authorization: Bearer <key>` when set.
          { key = { type = "string", required = false, referenceable = true, encrypted = true } },
          { sources = {
              type = "set",
              elements = { type = "string", one_of = SOURCES },
              default = SOURCES,
          } },
          -- POST /events takes at most 100 events per request.
          { batch_max_size = { type = "integer", default = 100, between = { 1, 100 } } },
          -- Seconds to wait for more events before a partial batch is sent.
          { flush_timeout = { type = "number", default = 2, between = { 0, 3600 } } },
          { timeout = { type = "integer", default = 10000, between = { 1, 600000 } } },
          -- Events kept while the service is unreachable; past it the oldest are dropped.
          { max_entries = { type = "integer", default = 10000, between = { 1, 1000000 } } },
          -- How long a failing batch is retried before it is dropped.
          { max_retry_time = { type = "number", default = 60, between = { 0, 86400 } } },
        },
    } },
  },
}
