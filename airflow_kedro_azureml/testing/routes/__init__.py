"""Route groups of the emulator, one module per kind of Azure resource."""
