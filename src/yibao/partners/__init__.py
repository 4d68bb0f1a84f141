"""partners: the open API's clients (合作应用), the person's grants and their tokens."""
