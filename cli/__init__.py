"""cli: see DESIGN.md."""
