"""`python -m modeling` is `python -m modeling.train`."""

from modeling.train import main

main()
