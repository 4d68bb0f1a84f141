"""Reference data for institutions (基础信息): national catalogues, dictionaries, practitioners,
an institution's catalogue mappings, and the versions by which clients download them."""
