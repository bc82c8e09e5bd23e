"""``/internal`` routes for the platform's own services: what accounting needs to know about an
organization (its teams' accounts, a member's role) to export its usage."""
