"""HTTP clients for the services provisioning calls: auth, accounting and chat's catalog."""
