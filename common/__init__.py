"""What every app shares and no domain owns: the service error base and the API's plumbing.
Nothing here imports an app of ours, so every app may import it."""
