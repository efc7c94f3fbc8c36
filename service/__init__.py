"""HTTP shell: FastAPI routers over the facestyle core library."""
