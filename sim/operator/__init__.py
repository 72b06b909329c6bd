"""The operator's business across the five stages (filled in below)."""

__all__: list[str] = []
