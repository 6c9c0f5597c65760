"""One module per schema change; never edit one that has shipped: add the next."""
