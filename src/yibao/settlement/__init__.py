"""Settlement at designated institutions: institutions, catalogue, policy, settlements."""
