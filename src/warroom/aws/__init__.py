"""Adapters over botocore/aiobotocore. Nothing here imports Textual."""
