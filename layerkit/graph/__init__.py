"""Shape inference for layers (meta device first, eager fallback)."""
