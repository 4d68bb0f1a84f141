"""明细审核: the detail audit of fee details (3101/3102/3103) and its rule book."""
