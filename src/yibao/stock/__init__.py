"""Stock, purchases and sales of an institution (进销存): counts, changes, purchases and their
returns, sales and their returns, each kept as an append-only movement of an item's stock."""
