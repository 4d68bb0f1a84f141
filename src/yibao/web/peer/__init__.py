"""The API between deployments (异地就医): signed messages, one route per kind (docs/cross-region.md)."""
