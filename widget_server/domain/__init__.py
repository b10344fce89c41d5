"""Pure rules of the product: no I/O, no asyncio, time passed in. Tested with plain values."""
