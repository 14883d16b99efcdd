// The OCPP16 module; see docs/architecture.md.
