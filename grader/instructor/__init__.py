"""The instructor's side: release, submit, collect into a SQLite gradebook, export, report."""
