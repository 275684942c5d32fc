"""The browser UI's views, one module per area (dashboard, sandboxes, datataps, usage, ...)."""
