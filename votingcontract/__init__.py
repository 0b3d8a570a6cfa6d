"""votingcontract: see DESIGN.md."""
