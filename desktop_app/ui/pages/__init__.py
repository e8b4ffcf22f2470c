"""One page per workflow step. Pages show the session and never import each other."""
