"""The payment channel sandbox (its own process): ``server.ChannelSandbox``; scenarios in ``rules``."""
