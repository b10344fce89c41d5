"""The edge: Starlette routes for WebSockets, REST, pages and the widget script."""
