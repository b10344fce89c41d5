"""E-mail: rendering (jinja2 + Babel), the outbox, and the SMTP sender. See docs/email.md."""
