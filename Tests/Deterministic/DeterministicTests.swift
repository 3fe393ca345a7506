import Testing

// Deterministic simulation scenarios (issue 7) live here.
