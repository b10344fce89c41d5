"""Connections, frames and the bus that carries events between them."""
