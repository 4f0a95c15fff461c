from scr_text.cli import entry

entry()
