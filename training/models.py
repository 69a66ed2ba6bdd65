"""Tables of the training module; later work fills this in (see the design's layout)."""
