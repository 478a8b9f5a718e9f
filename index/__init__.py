"""Indexing: report files → clean lines → passages → Chroma + BM25 stores.

The modules follow the data flow: ``loaders`` → ``cleaning`` → ``structure`` → ``passages``
→ ``embedding`` → ``stores``; ``build`` runs the pipeline incrementally.
"""
