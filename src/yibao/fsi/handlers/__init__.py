"""One handler per transaction code; `fsi.transactions` lists them."""
