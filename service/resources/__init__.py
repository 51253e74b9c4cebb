"""One module per resource: its wire Structs, its queries and its controller."""
