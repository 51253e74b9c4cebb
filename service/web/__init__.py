"""The HTTP layer: what every response gets, whatever the handler (see `layer.HttpLayer`)."""
