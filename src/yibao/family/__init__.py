"""家庭共济: authorisations to spend from an employee's personal account for relatives."""
