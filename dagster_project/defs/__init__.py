"""Per-integration definitions: extract/ now; oltp/, lake/, warehouse/, quality/ as they arrive."""
