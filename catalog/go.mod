module github.com/mcp-oauth/catalog

go 1.26.8
