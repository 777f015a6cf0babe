"""avn-kb: clinical guidance on avascular necrosis kept as data, validated, tested and queried."""

__version__ = "0.1.0"
