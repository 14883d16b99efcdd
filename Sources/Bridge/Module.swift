// The Bridge module; see docs/architecture.md.
