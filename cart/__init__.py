"""Carts and cart items (SPEC "Domain": Cart). Built with flow A; see the README's architecture."""
