"""File suffixes by kind of data: one table for the folder sources and for prediction from files."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})  # what Pillow reads
AUDIO_SUFFIXES = frozenset({".wav"})
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
TEXT_SUFFIXES = frozenset({".txt", ".text", ".pos", ".neg"})
