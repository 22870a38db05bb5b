"""The training engine: trainer (loops) and data_adapter (data → device batches)."""
