"""异地就医 between deployments: the region directory, the signed API, claims and settlements."""
