"""Helpers shared by the tests (never imported by sandbox/, the product or the demo)."""
