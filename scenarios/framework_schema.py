"""The five-stage framework scenario (placeholder until written)."""
