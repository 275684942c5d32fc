"""The browser UI's views, one module per area (dashboard, sandboxes, jobs, notebooks, gateway, datataps,
hosts, usage, tenants, tokens, audit, catalog, flavors); `guards` holds the role checks and
`paging` the pagination that every area shares."""
