"""自助查询机: the kiosks staff register, their card sessions and print jobs."""
