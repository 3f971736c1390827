"""The whole configuration: one pydantic module per part, loading, ${ENV} expansion, the documented default."""
