"""The Gradio app's tabs, rendering and shared state (``app.py`` puts them together)."""
