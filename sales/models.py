"""Tables of the sales module; later work fills this in (see the design's layout)."""
