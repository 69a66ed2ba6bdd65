"""Tables of the performance module; later work fills this in (see the design's layout)."""
