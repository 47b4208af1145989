"""``python -m lstmkit`` runs the command-line tool."""

from lstmkit.cli import main

main()
