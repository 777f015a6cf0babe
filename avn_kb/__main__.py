"""Allow `python -m avn_kb`."""

from avn_kb.cli import main

if __name__ == "__main__":
    main()
