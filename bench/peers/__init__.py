"""The servers Openline is measured against, each speaking the Openline protocol as far as it can."""
