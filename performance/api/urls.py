def register(router):
    """The performance routes of /api/v1/."""
