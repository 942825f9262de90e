"""Software-defined assets, one module per area of the catalog."""
