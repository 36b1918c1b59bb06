"""`python -m peernode`: the same as the `peernode` command."""

from peernode.cli import main

if __name__ == "__main__":
    main()
