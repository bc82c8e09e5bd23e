"""The web console's build (services/console/dist), served at / from memory."""
