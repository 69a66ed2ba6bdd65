"""Tables of the agreements module; later work fills this in (see the design's layout)."""
