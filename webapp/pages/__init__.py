"""One module per page of the app, in the order of its navigation."""
