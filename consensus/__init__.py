"""consensus: see DESIGN.md."""
