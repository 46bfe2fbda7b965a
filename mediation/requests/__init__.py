"""Schools' side: filing requests, approving them, following them, cancelling them."""
