"""The commands users type, each a `main(argv=None)`: the root scripts and the console scripts of an installed
Emojify (pyproject.toml) run the same ones."""
