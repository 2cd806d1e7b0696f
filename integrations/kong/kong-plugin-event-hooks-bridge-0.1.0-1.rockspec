package = "kong-plugin-event-hooks-bridge"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/event-hooks/event-hooks.git",
  dir = "integrations/kong",
}
description = {
  summary = "Forwards Kong's entity changes, balancer health and rate-limit refusals to event-hooks' POST /events.",
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.1",
}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.event-hooks-bridge.handler"] = "kong/plugins/event-hooks-bridge/handler.lua",
    ["kong.plugins.event-hooks-bridge.schema"] = "kong/plugins/event-hooks-bridge/schema.lua",
    ["kong.plugins.event-hooks-bridge.events"] = "kong/plugins/event-hooks-bridge/events.lua",
    ["kong.plugins.event-hooks-bridge.sender"] = "kong/plugins/event-hooks-bridge/sender.lua",
  },
}
