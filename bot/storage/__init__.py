"""Storage: the only package that writes SQL. One repository module per aggregate."""
