"""gateway: the HTTP edge (FastAPI). Public petitioner endpoints, officer endpoints behind OAuth2/JWT, metrics."""
