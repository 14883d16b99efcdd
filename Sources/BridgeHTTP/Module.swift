// The BridgeHTTP module; see docs/architecture.md.
