"""X12 reading and writing: tokenizer, envelopes, 837P loops, writers."""
