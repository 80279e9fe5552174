"""The normative claims of the course, as data (`spec/<chapter>.toml`), and their one loader."""
