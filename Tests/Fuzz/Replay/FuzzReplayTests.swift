import Testing

// Replays the fuzz corpora and every past crash (Tests/Fuzz). Filled with the fuzz targets.
