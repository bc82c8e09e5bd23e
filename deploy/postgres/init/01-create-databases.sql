-- Runs once, when the postgres container initialises an empty data volume (the image runs
-- every *.sql in /docker-entrypoint-initdb.d as POSTGRES_USER). Each service owns its own
-- database; none reads another's tables. MongoDB (chat) is a separate container.
CREATE DATABASE auth;
CREATE DATABASE accounting;
CREATE DATABASE provisioning;
