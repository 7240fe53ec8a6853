"""Extraction backends: each turns a document's chunks into candidate items."""
