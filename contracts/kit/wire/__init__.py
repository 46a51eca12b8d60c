"""What the kit's client does on the wire besides sending: bounded reads, masked keys."""
