"""``python -m ctip_research`` runs the ``ctip`` command-line interface."""

from ctip_research.cli import main

if __name__ == "__main__":
    main()
