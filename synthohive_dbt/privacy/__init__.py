"""Privacy by default: find personal data, treat it (fake, mask, hash, drop, keep), keep
rare real values out of artifacts and synthetic tables, and measure the result against a
holdout of real rows that no model trained on."""
