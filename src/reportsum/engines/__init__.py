"""Engines other than interactive calls that answer the pipeline's model requests: a
provider's Batch API, or an offline engine reading request files (vLLM's `run-batch`)."""
