"""HTML reports: Jinja2 templates with everything inlined, so that they open offline."""
