"""The Tk window, one module per part; app.py assembles them."""
