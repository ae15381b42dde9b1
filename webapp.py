"""Emojify in the browser: `streamlit run webapp.py` (installed: `emojify-web`); the page is emojify/commands/web.py."""
from emojify.commands.web import main

if __name__ == "__main__":
    main()
