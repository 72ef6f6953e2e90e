-- Runs once, when the PostgreSQL volume is first initialised: the app's
-- database (consent app and MCP server) and Hydra's, kept apart.
CREATE DATABASE mcp_app;
CREATE DATABASE hydra;
