"""Monthly crediting (划账) of a whole province: a durable, resumable job."""
