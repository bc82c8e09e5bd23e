"""Bring your own key: answers asked with the caller's (or its team's) own provider credential,
stored in provisioning, instead of the platform's."""
