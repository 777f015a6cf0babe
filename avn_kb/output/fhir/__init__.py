"""Exports of the knowledge base into other systems' standards (FHIR, see docs/interop.md)."""
