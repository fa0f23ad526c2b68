"""Project bootstrapping (init, adopt) and the generated reference."""
