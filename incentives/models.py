"""Tables of the incentives module; later work fills this in (see the design's layout)."""
