// The TagStore module; see docs/architecture.md.
