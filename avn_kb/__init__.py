"""avn-kb: clinical guidance on avascular necrosis kept as data, validated, tested and queried."""

__version__ = "0.1.0"
# Where the project is published: the one place links into its documentation start from.
REPOSITORY_URL = "https://github.com/OWNER/avn-kb"
