"""异地就医备案: a person's registration of treatment outside the insured region."""
