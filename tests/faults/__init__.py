"""Issue 11's fault campaign on real processes: see campaign.py and docs/OPERATIONS.md."""
