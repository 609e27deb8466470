"""Getting extracts in: reading CSV/XLSX files, their dates and columns, mapping headers to fields, checking and storing rows, and the population's fingerprint."""
